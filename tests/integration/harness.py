"""harness.py -- start real interpreters and servers, with or without the library.

The integration suite runs programs the way operators do: a real interpreter or
WSGI server as a subprocess, with ``LD_PRELOAD=<build>/libflaskshield.so`` and
``FLASKSHIELD_POLICY=<policy file>`` in its environment, reached over real HTTP
on 127.0.0.1.  This module holds everything that is not a pytest fixture, so
tests may also import it directly (``from harness import ...``); conftest.py
wraps it in fixtures.

Stacks (``STACKS``, the ids of the ``stack`` fixture):

  debian  /usr/bin/python3 3.11 (static; API exported from the executable),
          Flask/Werkzeug 2.2 from Debian, gunicorn, waitress, uWSGI (python3
          plugin) and Apache mod_wsgi.
  pyenv   pyenv's CPython 3.11.7 (shared libpython), Flask 3.1 in its own
          site-packages.  Debian's gunicorn and waitress are reached through a
          directory holding symlinks to just those two packages, put on
          PYTHONPATH (``Stack.env_extra``), so the interpreter's own Flask wins.
          uWSGI and mod_wsgi embed Debian's libpython: impossible by design.

Server kinds (``KINDS``): gunicorn, waitress, uwsgi, apache (mod_wsgi embedded
mode, default per-application sub-interpreter), apache-global (embedded,
``WSGIApplicationGroup %{GLOBAL}``), flask-run (``python -m flask --app X
run``), script (``python app.py``).

App convention: the app file defines a module-level Flask object named ``app``
(``callable=`` to change it).  For kind "script" the file runs its own server;
the harness passes the port in the ``PORT`` environment variable (always, for
every kind), and ``write_app`` appends ``RUN_MAIN`` -- ``app.run(host=
"127.0.0.1", port=int(os.environ["PORT"]))`` under ``if __name__ ==
"__main__"`` -- unless the source already has a ``__main__`` block.

Environment: every child gets a small, fixed environment (``base_env``: PATH,
HOME, LANG=C.UTF-8), never the environment pytest runs in, plus the stack's
extras, plus the library variables when ``preload`` is true, plus the test's
``env`` (a value of None removes a variable).

Sanitizer builds (make SANITIZE=1 BUILD=build-asan; detected with ldd): the
ASan runtime goes first in LD_PRELOAD with ASAN_OPTIONS/UBSAN_OPTIONS
(``sanitizer_env``), and the baseline of a with/without comparison
(``run_both``, ``baseline=True``) preloads the sanitizer runtimes alone with
the same options (``baseline_env``), so the comparison differs by the library
only; a normal build's baseline, and every plain ``preload=False`` run,
preloads nothing.
``env_words`` gives the same as ``KEY=VALUE`` words for ``env -i``; known
bugs of third-party programs that ASan catches in them are suppressed for
those programs only (``PROGRAM_SUPPRESSIONS``: uWSGI's ini parser).

Logs: the library writes one JSON object a line to stderr.  Every server's
stderr (and Apache's ErrorLog, where mod_wsgi processes' stderr lands) is kept
in a file; ``parse_log`` / ``Server.log_lines()`` return the flaskshield
objects (``"src": "flaskshield"``) and ignore everything else.

Cleanup: servers run in their own session (``start_new_session=True``) and are
stopped by signalling the whole process group (SIGTERM, then SIGKILL after a
bounded wait).  Every started server is also kept in a registry that conftest
empties at the end of each test, so a test cannot leak a server.
"""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------
# Timeouts (seconds).  Everything the harness waits for is bounded.

START_TIMEOUT = 20.0     # until the port answers
STOP_TIMEOUT = 5.0       # SIGTERM -> SIGKILL
HTTP_TIMEOUT = 15.0      # one HTTP exchange
RUN_TIMEOUT = 60.0       # one run_python / run_cmd

# --------------------------------------------------------------------------
# The library.


def build_dir():
    """The build directory under test: $FLASKSHIELD_BUILD, else <repo>/build."""
    return Path(os.environ.get("FLASKSHIELD_BUILD") or REPO / "build").resolve()


def library_path():
    return build_dir() / "libflaskshield.so"


def command_path():
    """The `flaskshield` command (policy check / explain / run)."""
    return build_dir() / "flaskshield"


def require_library():
    """Fail (never skip) the calling test when the library is not built."""
    lib = library_path()
    if not lib.is_file():
        pytest.fail("%s is not built (run `make`, or set FLASKSHIELD_BUILD)" % lib,
                    pytrace=False)
    return lib


_sanitizer_preload = None


def sanitizer_runtime():
    """The sanitizer runtimes the library links, in ldd order (e.g.
    [libasan, libubsan] for -fsanitize=address,undefined), or [] for a normal
    build (or when the library is not built yet).

    A sanitizer build (make SANITIZE=1) needs the first of them in the
    preload list before the library, or ASan aborts ("runtime does not come
    first").
    """
    global _sanitizer_preload
    if _sanitizer_preload is None:
        lib = library_path()
        if not lib.is_file():
            return []
        found = []
        try:
            out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True,
                                 timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        for name in ("libasan.so", "libubsan.so"):
            m = re.search(r"\s(%s\S*) => (\S+)" % re.escape(name), out)
            if m:
                found.append(m.group(2))
        _sanitizer_preload = found
    return list(_sanitizer_preload)


def sanitizer_env():
    """The sanitizer options every preloaded child gets ({} in a normal
    build).  Leak detection is off: the interpreters and servers leak at exit
    by design, library or not."""
    if not sanitizer_runtime():
        return {}
    return {
        "ASAN_OPTIONS": os.environ.get(
            "ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0"),
        "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1"),
    }


def preload_value():
    """The LD_PRELOAD value for the library (the sanitizer runtime first)."""
    lib = require_library()
    return " ".join(sanitizer_runtime()[:1] + [str(lib)])


def library_env(policy=None):
    """Environment variables that load the library (and name the policy)."""
    env = {"LD_PRELOAD": preload_value()}
    env.update(sanitizer_env())
    if policy is not None:
        env["FLASKSHIELD_POLICY"] = str(policy)
    return env


def baseline_env():
    """The baseline of a with/without comparison (the run "without the
    library" of run_both, child_env(baseline=True), env_words(False)).

    Normal build: nothing ({}).  Sanitizer build: the sanitizer runtimes
    alone (all of them: the library's ASan and UBSan runtimes, which bring
    their own dependencies), with the same options as the runs with the
    library, so that a comparison differs by the library only (not by what
    the sanitizer runtimes open, print or detect).  Plain preload=False runs
    (servers and programs "without the library") preload nothing at all.
    """
    rt = sanitizer_runtime()
    if not rt:
        return {}
    return dict(sanitizer_env(), LD_PRELOAD=" ".join(rt))


def env_words(preload=True, policy=None):
    """`KEY=VALUE` words for `env -i ... PROGRAM`: the library variables
    (library_env) if preload, else the baseline (baseline_env: none in a
    normal build, the sanitizer runtime and its options in a sanitizer
    build)."""
    env = library_env(policy) if preload else baseline_env()
    return ["%s=%s" % kv for kv in env.items()]


# Known bugs of third-party programs that ASan reports once its runtime is
# preloaded into them (our library is not involved): suppressed for those
# programs only, in sanitizer builds only.
#   uWSGI 2.0.21 (uwsgi-core): the ini parser's magic-variable substitution
#   (magic_sub -> uwsgi_concat3n) memcpy()s past the end of its buffer when
#   an ini file uses %d/%(...) (examples/uwsgi.ini does).
PROGRAM_SUPPRESSIONS = {
    "uwsgi": "interceptor_via_fun:uwsgi_concat3n\n",
}
_suppression_files = {}


def _program_name(argv0):
    name = os.path.basename(str(argv0))
    return "uwsgi" if name.startswith("uwsgi") else name


def sanitizer_env_for(argv, env):
    """`env` adjusted for the program argv[0] in a sanitizer build: adds the
    ASan suppressions of PROGRAM_SUPPRESSIONS when the sanitizer runtime is
    preloaded into it.  Returns `env` unchanged otherwise."""
    rt = sanitizer_runtime()
    if not rt or not argv:
        return env
    text = PROGRAM_SUPPRESSIONS.get(_program_name(argv[0]))
    if text is None or rt[0] not in (env.get("LD_PRELOAD") or "").replace(
            ":", " ").split():
        return env
    path = _suppression_files.get(text)
    if path is None or not os.path.exists(path):
        fd, path = tempfile.mkstemp(prefix="flaskshield-asan-", suffix=".supp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        _suppression_files[text] = path
        atexit.register(_remove, path)
    env = dict(env)
    opts = env.get("ASAN_OPTIONS") or sanitizer_env()["ASAN_OPTIONS"]
    env["ASAN_OPTIONS"] = opts + ":suppressions=" + path
    return env


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


# --------------------------------------------------------------------------
# Stacks.

PYENV_PYTHON = os.environ.get("FLASKSHIELD_PYENV_PYTHON",
                              "/root/.pyenv/versions/3.11.7/bin/python3")
DEBIAN_PYTHON = "/usr/bin/python3"
DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")

KINDS = ("gunicorn", "waitress", "uwsgi", "apache", "apache-global",
         "flask-run", "script")
DEBIAN_ONLY_KINDS = ("uwsgi", "apache", "apache-global")
STACKS = ("debian", "pyenv")


class Stack:
    """One interpreter with its Flask.

    name          "debian" or "pyenv"
    python        absolute path of the interpreter
    env_extra     environment every child of this stack gets (PYTHONPATH for
                  pyenv's view of gunicorn/waitress)
    flask_version, werkzeug_version   strings, read from the interpreter
    flask_major   int
    """

    def __init__(self, name, python, env_extra):
        self.name = name
        self.python = python
        self.env_extra = dict(env_extra)
        self.flask_version, self.werkzeug_version = _versions(python, self.env_extra)
        self.flask_major = int(self.flask_version.split(".")[0])

    def supports(self, kind):
        return self.name == "debian" or kind not in DEBIAN_ONLY_KINDS

    def require(self, kind):
        """Skip when `kind` is impossible on this stack by design."""
        if kind not in KINDS:
            raise ValueError("unknown server kind %r" % kind)
        if not self.supports(kind):
            pytest.skip("%s embeds Debian's libpython3.11; it cannot run the %s "
                        "interpreter (impossible by design)" % (kind, self.name))

    def __repr__(self):
        return "<Stack %s %s flask %s>" % (self.name, self.python, self.flask_version)


def _versions(python, env_extra):
    if not os.access(python, os.X_OK):
        pytest.fail("interpreter %s is missing" % python, pytrace=False)
    code = ("import importlib.metadata as m; "
            "print(m.version('flask'), m.version('werkzeug'))")
    env = base_env()
    env.update(env_extra)
    cp = subprocess.run([python, "-c", code], env=env, capture_output=True,
                        text=True, timeout=RUN_TIMEOUT)
    if cp.returncode != 0:
        pytest.fail("%s cannot import flask: %s" % (python, cp.stderr), pytrace=False)
    flask_v, werkzeug_v = cp.stdout.split()
    return flask_v, werkzeug_v


def pyenv_server_path(root):
    """Make <root>/pyenv-servers: symlinks to Debian's gunicorn and waitress.

    Only those packages are linked, so pyenv's own Flask/Werkzeug stay first.
    gunicorn 20.1 imports pkg_resources at start; pyenv's setuptools provides
    it, and Debian's copy is linked only when the interpreter lacks one.
    """
    d = Path(root) / "pyenv-servers"
    links = ["gunicorn", "waitress"]
    probe = subprocess.run([PYENV_PYTHON, "-c", "import pkg_resources"],
                           env=base_env(), capture_output=True, timeout=RUN_TIMEOUT)
    if probe.returncode != 0:
        links.append("pkg_resources")
    return _link_packages(d, links)


def _link_packages(d, names):
    """Folder d with a symlink to each of Debian's packages `names`."""
    d.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = DIST_PACKAGES / name
        if not src.is_dir():
            pytest.fail("%s is missing (install the Debian package)" % src,
                        pytrace=False)
        dst = d / name
        if not dst.exists():
            dst.symlink_to(src)
    os.chmod(d, 0o755)
    return d


def pyenv_package_env(stack, root, packages):
    """Environment that makes Debian's pure-Python `packages` importable on
    `stack` (a PYTHONPATH folder of symlinks next to pyenv-servers; on the
    Debian stack they already are: {}).

    Only the named packages are linked; their dependencies must already be
    in pyenv's interpreter (sentry_sdk needs urllib3 and certifi, which
    pyenv 3.11 has), so pyenv's own Flask/Werkzeug stay first.
    """
    if stack.name != "pyenv":
        return {}
    d = _link_packages(Path(root) / "pyenv-packages", packages)
    return {"PYTHONPATH": "%s:%s" % (stack.env_extra["PYTHONPATH"], d)}


def make_stack(name, tmp_root):
    if name == "debian":
        return Stack("debian", DEBIAN_PYTHON, {})
    if name == "pyenv":
        path = pyenv_server_path(tmp_root)
        # Debian's gunicorn/waitress directories belong to the system python:
        # do not write pyenv's bytecode into them.
        return Stack("pyenv", PYENV_PYTHON,
                     {"PYTHONPATH": str(path), "PYTHONDONTWRITEBYTECODE": "1"})
    raise ValueError("unknown stack %r" % name)


# --------------------------------------------------------------------------
# Environment and one-shot runs.


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
        pytest.fail("%r did not finish within %ss (preload=%s)\nstderr:\n%s"
                    % (argv, timeout, preload, err), pytrace=False)
    finally:
        _killpg(p.pid, signal.SIGKILL)   # stray grandchildren
    return _finish(subprocess.CompletedProcess(p.args, p.returncode, out, err))


def run_both(argv, **kw):
    """(without, with) library: two run_cmd results of the same command.

    "Without" is the comparison baseline (baseline_env: nothing preloaded in
    a normal build, the sanitizer runtimes alone in a sanitizer build)."""
    return (run_cmd(argv, preload=False, baseline=True, **kw),
            run_cmd(argv, preload=True, **kw))


# --------------------------------------------------------------------------
# Files.

RUN_MAIN = textwrap.dedent('''
    if __name__ == "__main__":
        import os as _os
        app.run(host="127.0.0.1", port=int(_os.environ["PORT"]))
    ''')


def make_traversable(path, upto=None):
    """Let www-data reach `path`: o+x on it and its parents below `upto`/`/tmp`.

    Apache's children run as www-data and import the app (and the library
    reads the policy) there, so the test's files must be reachable.
    """
    path = Path(path).resolve()
    stop = {Path("/"), Path(tempfile.gettempdir()).resolve()}
    if upto is not None:
        stop.add(Path(upto).resolve())
    p = path if path.is_dir() else path.parent
    while p not in stop and p != p.parent:
        mode = stat.S_IMODE(p.stat().st_mode)
        os.chmod(p, mode | (0o055 if p == path else 0o011))
        p = p.parent


def write_file(directory, name, text, mode=0o644):
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / name
    path.write_text(text if isinstance(text, str) else text.decode())
    os.chmod(path, mode)
    return path


def write_app(directory, source, name="app.py", run_main=True):
    """Write an app module; returns its path (mode 0644, dir 0755).

    `source` is dedented.  Unless it already has a __main__ block (or
    run_main is false), RUN_MAIN is appended so kind "script" works.
    """
    src = textwrap.dedent(source)
    if run_main and "__main__" not in src:
        src = src.rstrip("\n") + "\n" + RUN_MAIN
    path = write_file(directory, name, src)
    os.chmod(path.parent, 0o755)
    return path


def write_policy(directory, text, name="policy.conf", mode=0o644):
    """Write a libconfig policy file (dedented); returns its path.

    The default mode 0644 passes the library's permission check; pass e.g.
    mode=0o666 to test a policy that others can write.
    """
    path = write_file(directory, name, textwrap.dedent(text), mode)
    os.chmod(path.parent, 0o755)
    return path


# --------------------------------------------------------------------------
# Logs.


def parse_log(text):
    """The flaskshield JSON objects in `text` (a str or bytes), in order.

    A line counts if it is a JSON object with "src" == "flaskshield", either
    the whole line or from its first "{" on (tolerates a prefix such as
    Apache's "[wsgi:error] [pid N] "); other lines are ignored.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out = []
    for line in text.splitlines():
        i = line.find("{")
        if i < 0:
            continue
        for cand in (line.strip(), line[i:].strip()):
            try:
                obj = json.loads(cand)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("src") == "flaskshield":
                out.append(obj)
            break
    return out


def find_events(lines, event=None, **fields):
    """The log objects whose "event" is `event` and whose fields match."""
    return [o for o in lines
            if (event is None or o.get("event") == event)
            and all(o.get(k) == v for k, v in fields.items())]


# --------------------------------------------------------------------------
# Ports and processes.

_used_ports = set()


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (never reused in
    this session, so two servers of one test cannot collide)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port")


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


# --------------------------------------------------------------------------
# HTTP.


class Response(tuple):
    """(status, headers, body); also .status, .headers (HTTPMessage,
    case-insensitive .get), .body (bytes), .text (str)."""

    def __new__(cls, status, headers, body):
        return tuple.__new__(cls, (status, headers, body))

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    body = property(lambda self: self[2])
    text = property(lambda self: self[2].decode("utf-8", "replace"))

    def json(self):
        return json.loads(self[2])


def http_request(port, method, path, body=None, headers=None, chunked=False,
                 chunk_size=16384, timeout=HTTP_TIMEOUT, host="127.0.0.1"):
    """One request on a fresh connection; returns a Response.

    chunked=True sends `body` with Transfer-Encoding: chunked (chunks of
    `chunk_size`, written by hand with putrequest/send) and no Content-Length.
    """
    headers = dict(headers or {})
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if chunked:
            conn.putrequest(method, path)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            data = body or b""
            for i in range(0, len(data), chunk_size):
                piece = data[i:i + chunk_size]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")
        else:
            conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return Response(r.status, r.headers, r.read())
    finally:
        conn.close()


# --------------------------------------------------------------------------
# Servers.

_live_servers = []


class ServerExited(AssertionError):
    """The server exited (or never answered) during start.  .server has the
    Server (its .returncode, .stderr_text(), .log_lines())."""

    def __init__(self, msg, server):
        AssertionError.__init__(self, msg)
        self.server = server


class Server:
    """A running server of one kind; use start_server() to make one.

    url, port, kind, stack, app_path, policy, dir (private work dir),
    process (Popen of the leader), returncode (after exit/stop);
    get/post/request -> Response; log_lines(); stderr_text(); pids();
    alive(); stop().  A context manager (stops on exit).
    """

    def __init__(self, kind, stack, app_path, policy, env, preload, extra_args,
                 callable_name, workers):
        self.kind = kind
        self.stack = stack
        self.app_path = Path(app_path).resolve()
        self.policy = policy
        self.preload = preload
        self.extra_args = list(extra_args or [])
        self.callable = callable_name
        self.workers = workers
        self.user_env = dict(env or {})
        self.process = None
        self.returncode = None
        self.forced = False     # stop() needed SIGKILL for the leader
        self.stop_timeout = STOP_TIMEOUT
        self.port = None
        self.dir = Path(tempfile.mkdtemp(prefix="fs-%s-" % kind))
        os.chmod(self.dir, 0o755)
        self.stdout_path = self.dir / "stdout.log"
        self.stderr_path = self.dir / "stderr.log"
        self.error_log = None   # Apache's ErrorLog

    # -- command lines ----------------------------------------------------

    def _argv(self):
        return self._base_argv() + [str(a) for a in self.extra_args]

    def _base_argv(self):
        py = self.stack.python
        mod = self.app_path.stem
        target = "%s:%s" % (mod, self.callable)
        addr = "127.0.0.1:%d" % self.port
        k = self.kind
        if k == "gunicorn":
            return [py, "-m", "gunicorn", "--bind", addr, "--workers",
                    str(self.workers), "--chdir", str(self.app_path.parent),
                    "--graceful-timeout", "2", target]
        if k == "waitress":
            return [py, "-m", "waitress", "--listen=" + addr, target]
        if k == "uwsgi":
            return ["uwsgi", "--plugin", "python3", "--http-socket", addr,
                    "--master", "--processes", str(self.workers),
                    "--wsgi-file", str(self.app_path), "--callable",
                    self.callable, "--need-app", "--die-on-term"]
        if k == "flask-run":
            return [py, "-m", "flask", "--app", target, "run", "--host",
                    "127.0.0.1", "--port", str(self.port)]
        if k == "script":
            return [py, str(self.app_path)]
        if k in ("apache", "apache-global"):
            return ["/usr/sbin/apache2", "-f", str(self._apache_conf()),
                    "-DFOREGROUND"]
        raise ValueError(k)

    def _apache_conf(self):
        """A self-contained Apache config: event MPM, mod_wsgi embedded."""
        for p in [self.app_path] + ([Path(self.policy)] if self.policy else []):
            _check_www_data_readable(p)
        self.error_log = self.dir / "error.log"
        group = "WSGIApplicationGroup %{GLOBAL}\n" if self.kind == "apache-global" else ""
        conf = textwrap.dedent("""\
            ServerRoot {dir}
            ServerName 127.0.0.1
            PidFile {dir}/apache.pid
            DefaultRuntimeDir {dir}
            Listen 127.0.0.1:{port}
            LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
            LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
            LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so
            User www-data
            Group www-data
            ErrorLog {dir}/error.log
            LogLevel info
            StartServers 1
            ServerLimit {workers}
            MinSpareThreads 4
            MaxSpareThreads 16
            ThreadsPerChild 4
            MaxRequestWorkers {threads}
            Timeout 30
            GracefulShutdownTimeout 2
            WSGIScriptAlias / {app}
            WSGICallableObject {callable}
            {group}<Directory {appdir}>
                Require all granted
            </Directory>
            """).format(dir=self.dir, port=self.port, app=self.app_path,
                        appdir=self.app_path.parent, callable=self.callable,
                        group=group, workers=max(1, self.workers),
                        threads=4 * max(1, self.workers))
        path = self.dir / "apache2.conf"
        path.write_text(conf + getattr(self, "apache_extra", ""))
        return path

    # -- life cycle -------------------------------------------------------

    def start(self, wait=True, timeout=START_TIMEOUT, port=None):
        self.port = port or free_port()
        argv = self._argv()
        env = child_env(self.stack, dict({"PORT": self.port}, **self.user_env),
                        self.preload, self.policy)
        env = sanitizer_env_for(argv, env)
        self.argv = argv
        self.env = env
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        try:
            self.process = subprocess.Popen(
                argv, env=env, cwd=str(self.app_path.parent),
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True)
        finally:
            out.close()
            err.close()
        _live_servers.append(self)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        """Wait until the port accepts connections; ServerExited otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            rc = self.process.poll()
            if rc is not None:
                self.returncode = rc
                self.stop()
                raise ServerExited("%s exited with status %s before answering\n%s"
                                   % (self.kind, rc, self.describe()), self)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServerExited("%s did not answer on port %d within %ss\n%s"
                                   % (self.kind, self.port, timeout,
                                      self.describe()), self)
            time.sleep(0.05)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def pids(self):
        """Live pids of the server's process group (leader and workers)."""
        return group_pids(self.process.pid) if self.process else []

    def stop(self, timeout=None):
        """SIGTERM to the whole group, SIGKILL after `timeout`; idempotent.

        Sets .returncode, and .forced if the leader ignored SIGTERM for
        `timeout` seconds.  Known: Apache with the default per-application
        sub-interpreter always needs the SIGKILL, library or not -- its child
        deadlocks in threading._shutdown() while mod_wsgi 4.9.4 destroys the
        sub-interpreter on Python 3.11 (mod_wsgi#730, cpython#122517);
        apache_conf="WSGIDestroyInterpreter Off" avoids it.
        """
        if self.process is None:
            return self.returncode
        if timeout is None:
            timeout = self.stop_timeout
        pgid = self.process.pid
        if self.process.poll() is None:
            _killpg(pgid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.forced = True
        _killpg(pgid, signal.SIGKILL)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        # Apache's www-data children may linger a moment after the leader.
        deadline = time.monotonic() + timeout
        while group_pids(pgid) and time.monotonic() < deadline:
            _killpg(pgid, signal.SIGKILL)
            time.sleep(0.05)
        self.returncode = self.process.returncode
        if self in _live_servers:
            _live_servers.remove(self)
        return self.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- HTTP -------------------------------------------------------------

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def request(self, method, path="/", body=None, headers=None, chunked=False,
                timeout=HTTP_TIMEOUT, **kw):
        return http_request(self.port, method, path, body, headers, chunked,
                            timeout=timeout, **kw)

    def get(self, path="/", headers=None, timeout=HTTP_TIMEOUT):
        return self.request("GET", path, None, headers, timeout=timeout)

    def post(self, path="/", data=b"", headers=None, chunked=False,
             timeout=HTTP_TIMEOUT):
        return self.request("POST", path, data, headers, chunked, timeout=timeout)

    # -- logs -------------------------------------------------------------

    def stderr_text(self):
        """Everything the server wrote to stderr (for Apache, its ErrorLog
        too, after the captured stderr)."""
        parts = [self.stderr_path]
        if self.error_log is not None:
            parts.append(self.error_log)
        text = []
        for p in parts:
            try:
                text.append(p.read_bytes().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(text)

    def stdout_text(self):
        try:
            return self.stdout_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_lines(self):
        """The flaskshield JSON objects the server has logged so far."""
        return parse_log(self.stderr_text())

    def events(self, event=None, **fields):
        return find_events(self.log_lines(), event, **fields)

    def wait_for_event(self, event, timeout=10.0, **fields):
        """Poll the log until an event appears; returns the matches or []."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(event, **fields)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def describe(self):
        return "argv: %s\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(map(str, getattr(self, "argv", []))),
            self.stdout_text()[-4000:], self.stderr_text()[-8000:])

    def cleanup_files(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _check_www_data_readable(path):
    """Fail clearly if Apache's www-data children cannot read `path`."""
    path = Path(path).resolve()
    if path.stat().st_mode & 0o004 == 0:
        pytest.fail("%s is not world-readable; Apache's children (www-data) "
                    "must read it" % path, pytrace=False)
    for d in path.parents:
        if d.stat().st_mode & 0o001 == 0:
            pytest.fail("%s is not world-traversable; Apache's children "
                        "(www-data) must reach %s (use the tmp_path fixture of "
                        "tests/integration, which allows it)" % (d, path),
                        pytrace=False)


def start_server(kind, stack, app_path, policy=None, env=None, preload=True,
                 extra_args=(), callable="app", workers=2, wait=True,
                 timeout=START_TIMEOUT, apache_conf="", stop_timeout=STOP_TIMEOUT):
    """Start a server of `kind` for the app file `app_path`; returns a Server.

    policy      path for FLASKSHIELD_POLICY (None: variable not set)
    env         extra environment (None values remove variables)
    preload     put the library in LD_PRELOAD (fails the test if not built)
    extra_args  appended to the server's command line
    callable    name of the WSGI object in the app module
    workers     gunicorn --workers / uwsgi --processes / Apache ServerLimit
    wait        wait until the port answers (else call .wait_ready())
    apache_conf extra lines appended to the generated Apache config
    stop_timeout  SIGTERM grace before SIGKILL when the server is stopped
    Raises ServerExited if the server exits or does not answer in time.
    Skips only when `kind` is impossible on the stack by design.
    """
    stack.require(kind)
    if kind == "uwsgi" and shutil.which("uwsgi") is None:
        pytest.fail("uwsgi is not installed (uwsgi-core, uwsgi-plugin-python3)",
                    pytrace=False)
    if kind.startswith("apache") and not Path(
            "/usr/lib/apache2/modules/mod_wsgi.so").exists():
        pytest.fail("mod_wsgi is not installed (libapache2-mod-wsgi-py3)",
                    pytrace=False)
    srv = Server(kind, stack, app_path, policy, env, preload, extra_args,
                 callable, workers)
    srv.apache_extra = textwrap.dedent(apache_conf)
    srv.stop_timeout = stop_timeout
    last = None
    for _ in range(3):     # a port taken between free_port() and bind: retry
        try:
            return srv.start(wait=wait, timeout=timeout)
        except ServerExited as e:
            last = e
            if "ddress already in use" not in srv.stderr_text():
                raise
    raise last


def stop_all_servers():
    """Stop every server still running; returns how many there were."""
    n = 0
    for srv in list(_live_servers):
        srv.stop()
        n += 1
    return n
