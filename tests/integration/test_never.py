"""test_never.py -- what the library must never do (issue 2, "What it must never do").

Every case runs the same command without and with the library and compares
exit status, stdout and stderr byte for byte: shells, coreutils, perl, node,
gcc, git, apt-get, nginx, and Python programs (both stacks) that never import
Flask -- with computation, threads, subprocesses and fork without exec; with
the library named twice in LD_PRELOAD, next to another preloaded library,
under LD_BIND_NOW=1, with `env -i`, and under -S, -I, -E, PYTHONMALLOC=debug,
PYTHONMALLOC=malloc, -X dev and PYTHONDEVMODE=1.

And it opens no file in such a process (strace), in particular never the
policy file.

"Without" is harness.baseline_env(): nothing preloaded in a normal build; in
a sanitizer build (make SANITIZE=1) the sanitizer runtimes alone, with the
same options as the runs with the library, so every comparison differs by
the library only.
"""

import os
import re
import shutil
import subprocess
import textwrap

import pytest

import harness


def same(without, with_, what="", norm=lambda b: b):
    """Identical exit status, stdout and stderr; nothing logged.

    `norm` removes run-dependent noise (timestamps, pids) from stderr."""
    assert with_.returncode == without.returncode, (what, without, with_)
    assert with_.stdout == without.stdout, (what, without.stdout, with_.stdout)
    assert norm(with_.stderr) == norm(without.stderr), (what, without.stderr,
                                                        with_.stderr)
    assert with_.events == [], (what, with_.events)
    assert b"flaskshield" not in _b(with_.stderr) + _b(with_.stdout), what


def _b(x):
    return x if isinstance(x, bytes) else (x or "").encode()


def both(argv, norm=lambda b: b, **kw):
    without, with_ = harness.run_both(argv, **kw)
    same(without, with_, argv, norm)
    return without


# --------------------------------------------------------------------------
# Non-Python programs.


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "words.txt").write_text("pear\napple\nfig\nbanana\n")
    (d / "b.txt").write_text("bee\n")
    os.utime(d / "words.txt", (1_600_000_000, 1_600_000_000))
    os.utime(d / "b.txt", (1_600_000_000, 1_600_000_000))
    return d


SHELL_SCRIPT = ('x=0; for i in 1 2 3 4 5; do x=$((x+i)); done; echo "sum=$x"; '
                'echo err >&2; printf "%s\\n" c a b | sort | tr a-z A-Z; '
                '(exit 3) || echo "sub=$?"; exit 5')


@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_shells(shell):
    r = both([shell, "-c", SHELL_SCRIPT])
    assert r.returncode == 5
    assert r.stdout == b"sum=15\nA\nB\nC\nsub=3\n" and r.stderr == b"err\n"


def test_coreutils(files):
    r = both(["ls", "-l", "--time-style=+%s", str(files)])
    assert r.returncode == 0 and b"words.txt" in r.stdout
    r = both(["cat", str(files / "words.txt"), str(files / "b.txt")])
    assert r.stdout == b"pear\napple\nfig\nbanana\nbee\n"
    r = both(["sort", str(files / "words.txt")])
    assert r.stdout == b"apple\nbanana\nfig\npear\n"
    assert both(["true"]).returncode == 0
    assert both(["false"]).returncode == 1
    r = both(["cat", str(files / "missing")])
    assert r.returncode == 1 and b"No such file" in r.stderr


def test_perl():
    r = both(["perl", "-e", 'my $s = 0; $s += $_ for 1..100; print "s=$s\\n"; '
                            'print STDERR "warn\\n"; exit 4'])
    assert (r.returncode, r.stdout, r.stderr) == (4, b"s=5050\n", b"warn\n")


def test_node():
    r = both(["node", "-e", 'let s = 0; for (let i = 1; i <= 100; i++) s += i; '
                            'console.log("s=" + s); console.error("e"); '
                            'process.exitCode = 6'])
    assert (r.returncode, r.stdout, r.stderr) == (6, b"s=5050\n", b"e\n")


def test_gcc(tmp_path):
    src = tmp_path / "hello.c"
    src.write_text('#include <stdio.h>\nint main(void) { puts("hello"); '
                   'return 9; }\n')
    outs = []
    for preload in (False, True):
        exe = tmp_path / ("hello-%d" % preload)
        cp = harness.run_cmd(["gcc", "-O1", "-o", str(exe), str(src)],
                             preload=preload, cwd=str(tmp_path), baseline=True)
        outs.append(cp)
        run = harness.run_cmd([str(exe)], preload=False)
        assert (run.returncode, run.stdout) == (9, b"hello\n")
    same(outs[0], outs[1], "gcc")
    assert outs[0].returncode == 0
    # a compile error is reported the same way
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { return x; }\n")
    r = both(["gcc", "-c", "-o", str(tmp_path / "bad.o"), str(bad)],
             cwd=str(tmp_path))
    assert r.returncode == 1 and b"error" in r.stderr


def test_git(tmp_path):
    r = both(["git", "--version"])
    assert r.returncode == 0 and r.stdout.startswith(b"git version")
    results = []
    for preload in (False, True):
        repo = tmp_path / "repo"
        shutil.rmtree(repo, ignore_errors=True)
        repo.mkdir()
        cp = harness.run_cmd(["git", "init", "-q", "-b", "main", str(repo)],
                             preload=preload, baseline=True)
        (repo / "f.txt").write_text("x\n")
        cp2 = harness.run_cmd(
            ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e",
             "commit", "-q", "--allow-empty", "-m", "m"], preload=preload,
            baseline=True)
        st = harness.run_cmd(["git", "-C", str(repo), "status", "--porcelain"],
                             preload=preload, baseline=True)
        results.append((cp, cp2, st, sorted(os.listdir(repo / ".git"))))
    for a, b in zip(results[0][:3], results[1][:3]):
        same(a, b, "git")
    assert results[0][0].returncode == 0 and results[0][1].returncode == 0
    assert results[0][2].stdout == b"?? f.txt\n"
    assert results[0][3] == results[1][3]


def test_apt_get():
    r = both(["apt-get", "--version"])
    assert r.returncode == 0 and r.stdout.startswith(b"apt ")


def test_nginx(tmp_path):
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    conf = prefix / "nginx.conf"
    conf.write_text(textwrap.dedent("""\
        error_log stderr;
        pid %s/nginx.pid;
        events {}
        http { access_log off; server { listen 127.0.0.1:%d; } }
        """) % (prefix, harness.free_port()))
    r = both(["nginx", "-t", "-c", str(conf), "-p", str(prefix), "-e", "stderr"])
    assert r.returncode == 0 and b"test is successful" in r.stderr
    r = both(["nginx", "-v"])
    assert r.returncode == 0 and b"nginx version" in r.stderr
    conf.write_text("events {\n")
    # nginx stamps its error lines with the time and its pid
    stamp = re.compile(rb"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: ",
                       re.M)
    r = both(["nginx", "-t", "-c", str(conf), "-p", str(prefix), "-e", "stderr"],
             norm=lambda b: stamp.sub(rb"\1 ", b))
    assert r.returncode == 1 and b"[emerg] unexpected end of file" in stamp.sub(
        rb"\1 ", r.stderr), r.stderr


# --------------------------------------------------------------------------
# Python programs that never import Flask.

NO_FLASK = r'''
import hashlib, os, subprocess, sys, threading, json

def work(n):
    return hashlib.sha256(str(sum(i * i for i in range(n))).encode()).hexdigest()[:16]

print("compute", work(20000))

# threads that import and compute
results = {}
def t(i):
    import decimal, fractions, colorsys
    results[i] = (work(1000 + i), str(fractions.Fraction(i, 7)))
ts = [threading.Thread(target=t, args=(i,)) for i in range(6)]
for th in ts:
    th.start()
for th in ts:
    th.join()
print("threads", json.dumps(sorted(results.items())))

# a subprocess (inherits LD_PRELOAD) and a Python child
out = subprocess.run(["/bin/echo", "child"], capture_output=True).stdout
print("subprocess", out)
out = subprocess.run([sys.executable, "-c", "import os; print(len(os.listdir('/')) > 0); raise SystemExit(3)"],
                     capture_output=True)
print("pychild", out.returncode, out.stdout, out.stderr)

# fork without exec: the child computes, imports and exits
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    import statistics
    os.write(w, ("forked " + work(500) + " " + str(statistics.mean([1, 2, 3]))).encode())
    os._exit(11)
os.close(w)
data = os.read(r, 1000)
_, status = os.waitpid(pid, 0)
print("fork", data, os.WEXITSTATUS(status))

# fork, then threads in the child
pid = os.fork()
if pid == 0:
    th = threading.Thread(target=lambda: __import__("textwrap"))
    th.start()
    th.join()
    os._exit(12)
_, status = os.waitpid(pid, 0)
print("fork-thread", os.WEXITSTATUS(status))

sys.stderr.write("to stderr\n")
print("flask loaded:", "flask" in sys.modules, "werkzeug" in sys.modules)
sys.exit(7)
'''


@pytest.fixture
def script(tmp_path):
    p = tmp_path / "noflask.py"
    p.write_text(NO_FLASK)
    return p


def check_script_result(r):
    assert r.returncode == 7, r.stderr
    out = r.stdout.decode()
    assert "compute " in out and "fork b'forked " in out and " 11\n" in out
    assert "pychild 3 b'True\\n' b''" in out
    assert "fork-thread 12" in out
    assert "flask loaded: False False" in out
    assert r.stderr == b"to stderr\n"


def test_python_no_flask(stack, script):
    r = both([stack.python, str(script)], stack=stack)
    check_script_result(r)


def _libs():
    return harness.preload_value()


def _baseline_preload(*others):
    """LD_PRELOAD of a baseline run that preloads `others`: after the
    sanitizer runtimes in a sanitizer build (harness.baseline_env)."""
    pre = harness.baseline_env().get("LD_PRELOAD")
    return " ".join(([pre] if pre else []) + list(others))


@pytest.fixture(scope="module")
def other_lib(tmp_path_factory):
    """A tiny preloadable library with a constructor and its own symbols."""
    d = tmp_path_factory.mktemp("otherlib")
    src = d / "other.c"
    src.write_text(textwrap.dedent("""\
        #include <stdlib.h>
        static int other_ready;
        __attribute__((constructor)) static void other_init(void) {
            other_ready = getenv("PATH") != NULL;
        }
        int other_function(void) { return other_ready; }
        """))
    so = d / "libother.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(so), str(src)],
                   check=True, timeout=60)
    return str(so)


@pytest.mark.parametrize("variant", ["twice", "other-before", "other-after",
                                     "bind-now"])
def test_python_no_flask_preload_variants(stack, script, variant, other_lib):
    lib = _libs()
    base_env = {}
    if variant == "twice":
        env = {"LD_PRELOAD": "%s %s" % (lib, lib)}
    elif variant == "other-before":
        base_env = {"LD_PRELOAD": _baseline_preload(other_lib)}
        env = {"LD_PRELOAD": "%s:%s" % (other_lib, lib)}
    elif variant == "other-after":
        base_env = {"LD_PRELOAD": _baseline_preload(other_lib)}
        env = {"LD_PRELOAD": "%s %s" % (lib, other_lib)}
    else:
        base_env = {"LD_BIND_NOW": "1"}
        env = {"LD_BIND_NOW": "1"}
    argv = [stack.python, str(script)]
    without = harness.run_cmd(argv, preload=False, env=base_env, stack=stack,
                              baseline=True)
    with_ = harness.run_cmd(argv, preload=True, env=env, stack=stack)
    same(without, with_, variant)
    check_script_result(with_)


@pytest.mark.parametrize("variant", ["twice", "other", "bind-now"])
def test_programs_preload_variants(variant, other_lib, files):
    lib = _libs()
    if variant == "twice":
        env = {"LD_PRELOAD": "%s %s" % (lib, lib)}
        base = {}
    elif variant == "other":
        env = {"LD_PRELOAD": "%s %s" % (other_lib, lib)}
        base = {"LD_PRELOAD": _baseline_preload(other_lib)}
    else:
        env = base = {"LD_BIND_NOW": "1"}
    for argv in (["bash", "-c", SHELL_SCRIPT], ["sort", str(files / "words.txt")],
                 ["false"], ["perl", "-e", "print 42"], ["git", "--version"]):
        without = harness.run_cmd(argv, preload=False, env=base, baseline=True)
        with_ = harness.run_cmd(argv, preload=True, env=env)
        same(without, with_, (variant, argv))


def test_env_i(stack, script, files):
    lib = _libs()
    results = []
    # env_words: the baseline (nothing, or a sanitizer runtime alone) and
    # LD_PRELOAD=<lib> (plus a sanitizer build's options)
    words = harness.env_words(preload=True)
    assert "LD_PRELOAD=" + lib in words
    for argv in ([stack.python, str(script)], ["/bin/bash", "-c", SHELL_SCRIPT],
                 ["/usr/bin/sort", str(files / "words.txt")]):
        without = harness.run_cmd(["env", "-i"] + harness.env_words(preload=False)
                                  + argv, preload=False)
        with_ = harness.run_cmd(["env", "-i"] + words + argv, preload=False)
        same(without, with_, ("env -i", argv))
        results.append(with_)
    check_script_result(results[0])
    assert results[1].returncode == 5 and results[2].returncode == 0


PY_VARIANTS = {
    "-S": (["-S"], {}),
    "-I": (["-I"], {}),
    "-E": (["-E"], {}),
    "PYTHONMALLOC=debug": ([], {"PYTHONMALLOC": "debug"}),
    "PYTHONMALLOC=malloc": ([], {"PYTHONMALLOC": "malloc"}),
    "-X dev": (["-X", "dev"], {}),
    "PYTHONDEVMODE=1": ([], {"PYTHONDEVMODE": "1"}),
    "PYTHONMALLOC=debug -X dev": (["-X", "dev"], {"PYTHONMALLOC": "debug"}),
    "-X tracemalloc": (["-X", "tracemalloc"], {}),
}


@pytest.mark.parametrize("variant", list(PY_VARIANTS))
def test_python_flags(stack, script, variant):
    flags, env = PY_VARIANTS[variant]
    r = both([stack.python] + flags + [str(script)], env=env, stack=stack)
    check_script_result(r)


@pytest.mark.parametrize("variant", list(PY_VARIANTS))
def test_python_flags_c_and_error(stack, variant):
    """-c programs: a clean one, and one that dies with a traceback."""
    flags, env = PY_VARIANTS[variant]
    r = both([stack.python] + flags + ["-c", "import sys; print(sys.flags.isolated, "
                                       "sys.flags.no_site, sys.flags.dev_mode)"],
             env=env, stack=stack)
    assert r.returncode == 0
    r = both([stack.python] + flags + ["-c", "import json; json.loads('{')"],
             env=env, stack=stack)
    assert r.returncode == 1 and b"JSONDecodeError" in r.stderr


MAPS_PY = ("import sys; sys.stdout.write(str(open('/proc/self/maps').read()"
           ".count('libflaskshield.so') > 0))")


def test_control_library_is_mapped(stack, other_lib):
    """The comparisons above mean something: in each way of preloading used
    here, the library is really mapped into the process."""
    lib = _libs()
    runs = [
        harness.run_cmd([stack.python, "-c", MAPS_PY], stack=stack),
        harness.run_cmd([stack.python, "-c", MAPS_PY], stack=stack,
                        env={"LD_PRELOAD": "%s %s" % (lib, lib)}),
        harness.run_cmd([stack.python, "-c", MAPS_PY], stack=stack,
                        env={"LD_PRELOAD": "%s %s" % (other_lib, lib)}),
        harness.run_cmd([stack.python, "-c", MAPS_PY], stack=stack,
                        env={"LD_BIND_NOW": "1"}),
        harness.run_cmd(["env", "-i"] + harness.env_words(preload=True)
                        + [stack.python, "-c", MAPS_PY], preload=False),
    ]
    for flags, env in PY_VARIANTS.values():
        runs.append(harness.run_cmd([stack.python] + flags + ["-c", MAPS_PY],
                                    stack=stack, env=env))
    for r in runs:
        assert (r.returncode, r.stdout) == (0, b"True"), r
    r = harness.run_cmd([stack.python, "-c", MAPS_PY], stack=stack, preload=False)
    assert r.stdout == b"False"
    r = harness.run_cmd(["bash", "-c", "grep -c libflaskshield.so /proc/$$/maps"])
    assert r.returncode == 0 and int(r.stdout) > 0


# --------------------------------------------------------------------------
# No file access.

_OPEN_RE = re.compile(r'^\d+\s+(?:openat|open)\((?:AT_FDCWD, )?"([^"]*)"')


def _strace(argv, tmp_path, name, preload, extra_env=None, trace="openat,open"):
    """The set of paths the traced program (and its children) opened.

    strace itself runs with nothing preloaded; the traced program gets the
    library variables (preload) or the baseline (nothing in a normal build,
    the sanitizer runtime alone with its options in a sanitizer build)."""
    out = tmp_path / ("strace-%s-%d.txt" % (name, preload))
    cmd = ["strace", "-f", "-qq", "-e", "trace=" + trace, "-o", str(out)]
    words = harness.env_words(preload=preload)
    for k, v in (extra_env or {}).items():
        words.append("%s=%s" % (k, v))
    for w in words:
        cmd += ["-E", w]
    clean = {w.split("=", 1)[0]: None for w in harness.env_words(preload=True)}
    cp = harness.run_cmd(cmd + argv, preload=False, env=clean)
    expect = 7 if argv[-1].endswith("noflask.py") else 0
    assert cp.returncode == expect, cp.stderr
    text = out.read_text()
    paths = set()
    for line in text.splitlines():
        m = _OPEN_RE.match(line)
        if m:
            paths.add(m.group(1))
    assert paths, text[:2000]      # strace saw the program's own opens
    return paths, text, cp


def _no_new_opens(argv, tmp_path, name, env=None):
    without, _, _ = _strace(argv, tmp_path, name, False, env)
    with_, text, _ = _strace(argv, tmp_path, name, True, env)
    lib_paths = {str(harness.library_path())}
    extra = with_ - without - lib_paths
    assert extra == set(), sorted(extra)
    assert lib_paths <= with_       # the tracer saw the preload itself
    # a sanitizer runtime is in both runs, or in neither
    for rt in harness.sanitizer_runtime():
        assert rt in with_ and rt in without, rt


@pytest.mark.parametrize("prog", ["pass", "script"])
def test_python_opens_no_file(stack, tmp_path, script, prog):
    argv = {"pass": [stack.python, "-c", "pass"],
            "script": [stack.python, str(script)]}[prog]
    _no_new_opens(argv, tmp_path, prog, dict(stack.env_extra))


def test_true_opens_no_file(tmp_path):
    _no_new_opens(["/bin/true"], tmp_path, "true")


def test_policy_never_read_without_flask(stack, tmp_path, script):
    policy = harness.write_policy(tmp_path, 'version = 1;\nmode = "enforce";\n')
    env = dict(stack.env_extra, FLASKSHIELD_POLICY=str(policy))
    trace = "file"
    for argv in ([stack.python, str(script)],
                 [stack.python, "-c", "import json, threading, email.parser"]):
        paths, text, _ = _strace(argv, tmp_path, "policy", True, env, trace)
        assert str(policy) not in text, argv
        assert "policy.conf" not in text
    # the control: the same tracing sees the file read once Flask is imported
    paths, text, cp = _strace([stack.python, "-c", "import flask"], tmp_path,
                              "policy-flask", True, env, trace)
    assert str(policy) in text


# --------------------------------------------------------------------------
# A process that imports Flask: the files the library opens there (the
# policy, the weak list, the log file) never become its controlling
# terminal.  Every harness child is a session leader without one, and a
# session leader that opens a terminal without O_NOCTTY acquires it (the
# policy file was opened so: a policy path naming a terminal gave a daemon
# a controlling terminal, and with it SIGHUP when that terminal closes).

TTY_CODE = """
import os, flask
try:
    os.close(os.open("/dev/tty", os.O_RDWR))
    print("controlling terminal")
except OSError as e:
    print("none", e.errno)
"""


@pytest.mark.parametrize("where", ["policy", "weak_list", "log_file"])
def test_no_controlling_terminal_from_a_policy_path(stack, tmp_path, where):
    master, slave = os.openpty()
    try:
        tty = os.ttyname(slave)
        os.close(slave)         # the child opens it by name, or not at all
        if where == "policy":
            policy = tty
        else:
            policy = harness.write_policy(tmp_path, {
                "weak_list": 'version = 1;\nsecret_key = { weak_list = "%s"; };\n',
                "log_file": 'version = 1;\nlog = { target = "file"; file = "%s"; };\n',
            }[where] % tty)
        env = dict(stack.env_extra, FLASKSHIELD_POLICY=str(policy))
        without = harness.run_python(stack, ["-c", TTY_CODE], env=env,
                                     preload=False)
        with_lib = harness.run_python(stack, ["-c", TTY_CODE], env=env)
    finally:
        os.close(master)
    assert without.returncode == 0 and without.stdout.startswith("none"), without
    assert with_lib.returncode == 0, with_lib.stderr
    assert with_lib.stdout == without.stdout, (with_lib.stdout, with_lib.stderr)
    # the library looked at the path, and refused it as a policy, weak list
    # or log file
    assert harness.find_events(with_lib.events, "policy.invalid"), with_lib.stderr
