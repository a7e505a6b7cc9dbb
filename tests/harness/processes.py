"""processes -- one-shot runs of a program, and the environment children get.

Environment: every child gets a small, fixed environment (``base_env``: PATH,
HOME, LANG=C.UTF-8), never the environment pytest runs in, plus the stack's
extras, plus the library variables when ``preload`` is true, plus the test's
``env`` (a value of None removes a variable).
"""

import os
import signal
import subprocess

from .errors import HarnessError
from .logs import parse_log
from .preload import baseline_env, library_env, sanitizer_env_for

# --------------------------------------------------------------------------
# Timeouts (seconds).  Everything the harness waits for is bounded.
RUN_TIMEOUT = 60.0       # one run_python / run_cmd


def base_env():
    """The fixed environment every child starts from."""
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }


def child_env(stack=None, env=None, preload=True, policy=None, baseline=False):
    """base_env + stack extras + library variables (if preload) + env.

    Without preload nothing is preloaded, unless `baseline`: then the
    comparison baseline (baseline_env: still nothing in a normal build, the
    sanitizer runtimes alone in a sanitizer build).  A value of None in `env`
    removes that variable.
    """
    out = base_env()
    if stack is not None:
        out.update(stack.env_extra)
    if preload:
        out.update(library_env(policy))
    else:
        if baseline:
            out.update(baseline_env())
        if policy is not None:
            out["FLASKSHIELD_POLICY"] = str(policy)
    for k, v in (env or {}).items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = str(v)
    return out


def _finish(cp):
    text = cp.stderr if isinstance(cp.stderr, str) else (cp.stderr or b"").decode(
        "utf-8", "replace")
    cp.events = parse_log(text)
    return cp


def run_python(stack, args, env=None, preload=True, policy=None,
               timeout=RUN_TIMEOUT, cwd=None, input=None, text=True):
    """Run `<stack.python> *args` once; CompletedProcess with .events added.

    `args` is a list (e.g. ["-c", "import flask"]).  stdout/stderr are
    captured (text by default).  .events holds the flaskshield log objects.
    A run that exceeds `timeout` fails the test.
    """
    return run_cmd([stack.python] + list(args), preload=preload, policy=policy,
                   env=env, stack=stack, timeout=timeout, cwd=cwd, input=input,
                   text=text)


def run_cmd(argv, preload=True, policy=None, env=None, stack=None,
            timeout=RUN_TIMEOUT, cwd=None, input=None, text=False, baseline=False):
    """Run any program once, with or without the library; CompletedProcess.

    For "never-do" comparisons run it twice (preload=False / True) and compare
    returncode, stdout and stderr: see `run_both` (whose run without the
    library is preload=False, baseline=True: see baseline_env).  Output is
    bytes unless
    text=True.  The child gets its own session and the whole group is killed
    if it outlives `timeout`, which fails the test.
    """
    e = sanitizer_env_for(argv, child_env(stack, env, preload, policy, baseline))
    if isinstance(input, str) and not text:
        input = input.encode()
    p = subprocess.Popen([str(a) for a in argv], env=e, cwd=cwd,
                         stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=text, start_new_session=True)
    try:
        out, err = p.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise HarnessError("%r did not finish within %ss (preload=%s)\nstderr:\n%s"
                           % (argv, timeout, preload, err))
    finally:
        _killpg(p.pid, signal.SIGKILL)   # stray grandchildren
    return _finish(subprocess.CompletedProcess(p.args, p.returncode, out, err))


def run_both(argv, **kw):
    """(without, with) library: two run_cmd results of the same command.

    "Without" is the comparison baseline (baseline_env: nothing preloaded in
    a normal build, the sanitizer runtimes alone in a sanitizer build)."""
    return (run_cmd(argv, preload=False, baseline=True, **kw),
            run_cmd(argv, preload=True, **kw))


def _killpg(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_pids(pgid):
    """Live pids of process group `pgid` (from /proc)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rfind(")") + 2:].split()
        # fields[0] = state, [1] = ppid, [2] = pgrp
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(d))
    return sorted(pids)
