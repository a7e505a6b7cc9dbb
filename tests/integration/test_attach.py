"""test_attach.py -- the library finds every CPython and attaches once (issue 2).

- `import flask` under the library in both interpreters, with no flags, -S,
  -I and -E: one `activate` line (attach "constructor" in Debian's static
  python, whose argv the constructor may read; "Py_BytesMain" in pyenv's,
  where the C API is in libpython and the program could be any embedder),
  and the Flask patches in flaskshield.status().
- Every server: gunicorn (2 workers, with and without --preload), waitress,
  uWSGI (--plugin python3, master + 2 workers), Apache mod_wsgi (per-app
  sub-interpreter and %{GLOBAL}), `flask run`.  Each logs `activate` (once
  per process) and flaskshield.status() returned by a request handler names
  the attach path and lists the flask.app patches.
- Embedders (C programs built here): a program linked against libpython
  (interposed Py_Initialize*), and a plugin that links libpython and is dlopen()ed late
  (interposed entry point), each initializing Python twice: the second
  runtime, after Py_FinalizeEx, is attached again.
"""

import json
import os
import subprocess
import textwrap
import time

import pytest

import harness

FLASK_TARGETS = {"Flask.wsgi_app", "Flask.run", "Flask.make_config",
                 "Flask.debug", "Flask.testing",
                 "Flask.handle_exception", "Flask.process_response"}


def flask_targets(stack):
    """Flask 2.2 also decides propagation in a property of its own."""
    extra = {"Flask.propagate_exceptions"} if stack.flask_major < 3 else set()
    return FLASK_TARGETS | extra
ENTRY_POINTS = {"Py_Initialize", "Py_InitializeEx", "Py_InitializeFromConfig",
                "Py_Main", "Py_BytesMain"}


def _plain(stack, code):
    cp = harness.run_python(stack, ["-c", code], preload=False)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.strip()


_facts = {}


def facts(stack):
    """(python version, directory holding flask) of a stack, without us."""
    if stack.name not in _facts:
        out = _plain(stack, "import flask, os, platform; "
                            "print(platform.python_version()); "
                            "print(os.path.dirname(os.path.dirname(flask.__file__)))")
        _facts[stack.name] = tuple(out.splitlines())
    return _facts[stack.name]


def python_attach(stack):
    """How the library attaches to the `python` command of a stack: from the
    constructor when the executable itself exports the C API (Debian's
    static python), else at the interposed Py_BytesMain (fs_attach.c)."""
    return "constructor" if stack.name == "debian" else "Py_BytesMain"


def flask_patches(status):
    return {p["target"] for p in status["patches"] if p["module"] == "flask.app"}


# --------------------------------------------------------------------------
# Interpreters.

CLI_CODE = """
import sys, json
if %(site)r not in sys.path:
    sys.path.append(%(site)r)
import flask
try:
    import flaskshield
except ModuleNotFoundError:
    print(json.dumps({"flaskshield": None, "flask": flask.__file__}))
else:
    st = flaskshield.status()
    print(json.dumps({"flaskshield": st, "flask": flask.__file__,
                      "call": type(flask.Flask.__dict__["wsgi_app"]).__name__}))
"""


@pytest.mark.parametrize("flags", [[], ["-S"], ["-I"], ["-E"]],
                         ids=["noflags", "S", "I", "E"])
def test_import_flask_cli(stack, flags):
    version, site = facts(stack)
    code = CLI_CODE % {"site": site}
    without = harness.run_python(stack, flags + ["-c", code], preload=False)
    assert without.returncode == 0, without.stderr
    base = json.loads(without.stdout)
    assert base["flaskshield"] is None and without.events == []
    cp = harness.run_python(stack, flags + ["-c", code])
    assert cp.returncode == 0, cp.stderr
    r = json.loads(cp.stdout)
    assert r["flask"] == base["flask"]       # the same Flask, imported
    st = r["flaskshield"]
    assert st is not None
    act = harness.find_events(cp.events, "activate")
    assert len(act) == 1, cp.events
    assert act[0]["attach"] == python_attach(stack), act
    assert act[0]["python"] == version
    assert act[0]["pid"] == st["pid"]
    assert act[0]["version"] == st["version"]
    assert st["attach"] == python_attach(stack) and st["activated"] is True
    assert flask_patches(st) == flask_targets(stack)
    assert r["call"] == "Patch"


DEV_VARIANTS = {
    "X-dev": (["-X", "dev"], {}),
    "PYTHONDEVMODE": ([], {"PYTHONDEVMODE": "1"}),
    "PYTHONMALLOC-debug": ([], {"PYTHONMALLOC": "debug"}),
}

DEV_CODE = """
import sys, flask
d = flask.Flask.__dict__["wsgi_app"]
print(type(d).__name__, "flaskshield" in sys.modules or
      __import__("importlib.util").util.find_spec("flaskshield") is not None)
"""


@pytest.mark.parametrize("variant", list(DEV_VARIANTS))
def test_import_flask_debug_allocator(stack, variant):
    """Flask under the debug allocator (PYTHONMALLOC=debug, -X dev,
    PYTHONDEVMODE): the process must not crash (docs/design.md, "The trigger: an audit hook") and
    the app must still be protected -- the library attaches after
    initialization instead of registering its hook before it."""
    flags, env = DEV_VARIANTS[variant]
    without = harness.run_python(stack, flags + ["-c", DEV_CODE], env=env,
                                 preload=False)
    assert (without.returncode, without.stdout) == (0, "function False\n")
    cp = harness.run_python(stack, flags + ["-c", DEV_CODE], env=env)
    assert cp.returncode == 0, cp.stderr          # never crash at exit
    assert cp.stdout == "Patch True\n", (cp.stdout, cp.stderr)
    act = harness.find_events(cp.events, "activate")
    assert len(act) == 1 and act[0]["attach"], cp.events


# --------------------------------------------------------------------------
# Servers.

SECRET = "Vt8#qLm2!Xz7wRb4@Nk9pYc3$Hd6jFs5"

STATUS_APP = """
import os, flaskshield
from flask import Flask, jsonify

app = Flask(__name__)
app.config["SECRET_KEY"] = %r

@app.route("/status")
def status():
    st = flaskshield.status()
    st["served_by"] = os.getpid()
    return jsonify(st)
""" % SECRET

SERVER_CASES = {
    "gunicorn-preload": ("gunicorn", ["--preload"]),
    "gunicorn": ("gunicorn", []),
    "waitress": ("waitress", []),
    "uwsgi": ("uwsgi", []),
    "apache": ("apache", []),
    "apache-global": ("apache-global", []),
    "flask-run": ("flask-run", []),
}


def _wait_events(srv, event, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        found = srv.events(event)
        if len(found) >= n or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.mark.parametrize("case", list(SERVER_CASES))
def test_server_attaches(stack, case, tmp_path, start_server):
    kind, extra = SERVER_CASES[case]
    stack.require(kind)
    version, _ = facts(stack)
    app = harness.write_app(tmp_path, STATUS_APP)
    kw = {}
    if kind == "apache":
        kw["apache_conf"] = "WSGIDestroyInterpreter Off\n"
    srv = start_server(kind, stack, app, extra_args=extra, **kw)
    statuses = []
    for _ in range(6):
        r = srv.get("/status")
        assert r.status == 200, (r.status, r.text, srv.describe())
        statuses.append(r.json())
    served = {s["served_by"] for s in statuses}
    assert served <= set(srv.pids()), (served, srv.pids())
    for st in statuses:
        assert st["activated"] is True
        assert flask_patches(st) == flask_targets(stack), st["patches"]
        assert st["python"].split()[0] == version
        assert st["hooks"]["flask.app"] >= 1
        assert st["policy"]["mode"] == "enforce"
    attach = {s["attach"] for s in statuses}
    assert len(attach) == 1, attach
    attach = attach.pop()

    if kind in ("gunicorn", "waitress", "flask-run"):
        # the interpreter is the process itself: python's own way in
        assert attach == python_attach(stack), statuses[0]
    else:
        # uWSGI's plugin and mod_wsgi load libpython late and initialize it
        # through an interposed entry point
        assert attach in ENTRY_POINTS, statuses[0]

    acts = srv.events("activate")
    if case == "gunicorn":
        # no --preload: each worker imports the app (and Flask) itself
        acts = _wait_events(srv, "activate", 2)
    assert acts, srv.describe()
    pids = [a["pid"] for a in acts]
    assert len(pids) == len(set(pids)), acts      # once per process
    for a in acts:
        assert a["attach"] == attach and a["python"] == version, a
    leader = srv.process.pid
    if case == "gunicorn-preload":
        assert pids == [leader], (pids, leader)   # imported once, in the master
        assert served and leader not in served    # workers serve
    elif case == "gunicorn":
        assert len(pids) == 2 and leader not in pids, (pids, leader)
        assert served <= set(pids)
    elif kind in ("waitress", "flask-run"):
        assert pids == [leader] and served == {leader}
    elif kind == "uwsgi":
        # the app is loaded in the master before the 2 workers are forked
        assert pids == [leader], (pids, leader)
        assert leader not in served
    else:
        # Apache: the app is imported in the www-data children on demand
        assert leader not in pids and served <= set(pids), (pids, served)
    assert srv.events("patch.failed") == []
    assert SECRET not in srv.stderr_text()
    print("ATTACH %s %s attach=%s activate_pids=%s leader=%s served=%s"
          % (stack.name, case, attach, pids, leader, sorted(served)))


# --------------------------------------------------------------------------
# Embedders.

PYENV = "/root/.pyenv/versions/3.11.7"

EMBED_CODE = ("import flask, flaskshield, sys; s = flaskshield.status(); "
              "print('ATTACH', s['attach'], s['hooks']['flask.app'], "
              "type(flask.Flask.__dict__['wsgi_app']).__name__, "
              "len(sys.meta_path) > 0); sys.stdout.flush()")

EMBED_LIB = r"""
#include <Python.h>
#include <stdio.h>

int
embed_run(const char *code, int rounds)
{
    int i, rc;

    for (i = 0; i < rounds; i++) {
        Py_Initialize();
        rc = PyRun_SimpleString(code);
        printf("ROUND %d %d\n", i, rc);
        fflush(stdout);
        if (rc != 0) {
            return 10 + i;
        }
        if (Py_FinalizeEx() < 0) {
            return 120;
        }
    }
    return 0;
}
"""

EMBED_MAIN = r"""
#include <stdio.h>
int embed_run(const char *code, int rounds);
int main(int argc, char **argv) { return embed_run(argv[1], 2); }
"""

EMBED_HOST = r"""
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
/* host PLUGIN CODE global|local: dlopen the plugin (which links libpython)
   late, as uWSGI does with its python plugin. */
int
main(int argc, char **argv)
{
    int mode = strcmp(argv[3], "local") == 0 ? RTLD_LOCAL : RTLD_GLOBAL;
    void *h = dlopen(argv[1], RTLD_NOW | mode);
    int (*run)(const char *, int);

    if (h == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    run = (int (*)(const char *, int))dlsym(h, "embed_run");
    return run(argv[2], 2);
}
"""

EMBED_STACKS = {
    # name: (include dir, lib dir, flask importable by the embedded runtime)
    "pyenv": (PYENV + "/include/python3.11", PYENV + "/lib"),
    "debian": ("/usr/include/python3.11", "/usr/lib/x86_64-linux-gnu"),
}


def _gcc(args):
    cp = subprocess.run(["gcc"] + args, capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr


@pytest.fixture
def embedders(stack, tmp_path):
    inc, lib = EMBED_STACKS[stack.name]
    d = tmp_path / "embed"
    d.mkdir()
    (d / "embed.c").write_text(EMBED_LIB)
    (d / "main.c").write_text(EMBED_MAIN)
    (d / "host.c").write_text(EMBED_HOST)
    link = ["-I" + inc, "-L" + lib, "-lpython3.11", "-Wl,-rpath," + lib]
    _gcc([str(d / "main.c"), str(d / "embed.c"), "-o", str(d / "linked")] + link)
    _gcc(["-shared", "-fPIC", str(d / "embed.c"), "-o", str(d / "plugin.so")]
         + link)
    _gcc([str(d / "host.c"), "-o", str(d / "host"), "-ldl"])
    return d


def _embed_env(stack):
    # An embedded runtime computes its prefix from the program name
    # ("python3", looked up in PATH: Debian's); point pyenv's at its own home.
    # The pyenv stack's PYTHONPATH (its gunicorn/waitress view) is not wanted.
    return {"PYTHONPATH": None, "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHOME": PYENV if stack.name == "pyenv" else None}


def _rounds(cp):
    return [l.split()[1:] for l in cp.stdout.splitlines() if l.startswith("ATTACH")]


def _run_embedder(stack, argv):
    """Run an embedder without the library (no flaskshield module: exit 10)
    and with it (exit 0, two runtimes); the run with it and its rounds."""
    without = harness.run_cmd(argv, preload=False, env=_embed_env(stack),
                              text=True)
    assert without.returncode == 10, without.stdout + without.stderr
    assert "No module named 'flaskshield'" in without.stderr
    cp = harness.run_cmd(argv, env=_embed_env(stack), text=True)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    rounds = _rounds(cp)
    assert len(rounds) == 2, cp.stdout
    return cp, rounds


def test_embedder_linked(stack, embedders):
    """A program linked against libpython: the interposed Py_Initialize*
    attaches the first runtime (the constructor does not: the program's argv
    is not the interpreter's, see test_embedder_debug_allocator); after
    Py_FinalizeEx the next Py_Initialize re-attaches."""
    argv = [str(embedders / "linked"), EMBED_CODE]
    cp, rounds = _run_embedder(stack, argv)
    # Py_Initialize, or the Py_InitializeFromConfig that pyenv's libpython
    # calls through its own PLT
    assert rounds[0][0] in ("Py_Initialize", "Py_InitializeFromConfig"), rounds
    assert rounds[0][1:] == ["1", "Patch", "True"], rounds
    # second runtime: attached again through an interposed entry point,
    # flask.app patched again (a new module object)
    assert rounds[1][0] in ENTRY_POINTS, rounds
    assert rounds[1][1:] == ["2", "Patch", "True"], rounds
    act = harness.find_events(cp.events, "activate")
    assert len(act) == 1 and act[0]["attach"] == rounds[0][0], cp.events
    assert harness.find_events(cp.events, "patch.failed") == []


@pytest.mark.parametrize("mode", ["global", "local"])
def test_embedder_plugin_dlopened_late(stack, embedders, mode):
    """libpython arrives with a dlopen()ed plugin, after the constructor:
    the interposed entry point attaches both runtimes.  With RTLD_LOCAL the
    C API is not in the global scope (and CPython's own extension modules
    cannot load, so only builtin modules are imported there)."""
    code = EMBED_CODE if mode == "global" else (
        "import flaskshield, sys; s = flaskshield.status(); "
        "print('ATTACH', s['attach'], s['activated'], "
        "sum(type(f).__name__ == 'Finder' for f in sys.meta_path)); "
        "sys.stdout.flush()")
    argv = [str(embedders / "host"), str(embedders / "plugin.so"), code, mode]
    cp, rounds = _run_embedder(stack, argv)
    for i, r in enumerate(rounds):
        assert r[0] in ENTRY_POINTS, rounds
        if mode == "global":
            assert r[1:] == [str(i + 1), "Patch", "True"], rounds
        else:
            assert r[1:] == ["False", "1"], rounds
    if mode == "global":
        act = harness.find_events(cp.events, "activate")
        assert len(act) == 1 and act[0]["attach"] == rounds[0][0], cp.events
    else:
        assert cp.events == []     # nothing watched was imported


# Embedders that choose the debug allocator themselves (issue 13): their
# process argv says nothing about it, so the library must not register its
# hook before initialization from the constructor; it attaches through the
# interposed entry point instead.  Before the fix each of these aborted at
# Py_FinalizeEx (status 134).

EMBED_DEV_CODE = ("import sys\n"
                  "try:\n"
                  "    import flaskshield\n"
                  "    a = flaskshield.status()['attach']\n"
                  "except ModuleNotFoundError:\n"
                  "    a = None\n"
                  "print('DEV', sys.flags.dev_mode, a)\n")

EMBED_CONFIG = r"""
#include <Python.h>
/* embed-config dev|allocator CODE: the embedder's own PyConfig or
   PyPreConfig switches the debug allocator on. */
int
main(int argc, char **argv)
{
    PyConfig config;
    PyStatus st;

    (void)argc;
    if (strcmp(argv[1], "allocator") == 0) {
        PyPreConfig pre;
        PyPreConfig_InitPythonConfig(&pre);
        pre.allocator = PYMEM_ALLOCATOR_DEBUG;
        st = Py_PreInitialize(&pre);
        if (PyStatus_Exception(st)) {
            Py_ExitStatusException(st);
        }
    }
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 0;
    config.dev_mode = strcmp(argv[1], "dev") == 0;
    st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        Py_ExitStatusException(st);
    }
    if (PyRun_SimpleString(argv[2]) != 0) {
        return 10;
    }
    return Py_FinalizeEx() < 0 ? 120 : 0;
}
"""

EMBED_PYMAIN = r"""
#include <Python.h>
/* embed-pymain ARG...: Py_Main() with a command line of its own, not the
   process's ("python3" ARG...). */
int
main(int argc, char **argv)
{
    wchar_t **wargv = PyMem_RawCalloc((size_t)argc + 1, sizeof(wchar_t *));
    int i;

    wargv[0] = L"python3";
    for (i = 1; i < argc; i++) {
        wargv[i] = Py_DecodeLocale(argv[i], NULL);
    }
    return Py_Main(argc, wargv);
}
"""


@pytest.fixture
def dev_embedders(stack, tmp_path):
    inc, lib = EMBED_STACKS[stack.name]
    d = tmp_path / "embed-dev"
    d.mkdir()
    link = ["-I" + inc, "-L" + lib, "-lpython3.11", "-Wl,-rpath," + lib]
    for name, src in (("config", EMBED_CONFIG), ("pymain", EMBED_PYMAIN)):
        (d / (name + ".c")).write_text(src)
        _gcc([str(d / (name + ".c")), "-o", str(d / name)] + link)
    return d


DEV_EMBED_CASES = {
    # name: (argv after the program, dev_mode, attach path)
    "config-dev_mode": (["config", "dev", EMBED_DEV_CODE], "True",
                        "Py_InitializeFromConfig"),
    "preconfig-allocator": (["config", "allocator", EMBED_DEV_CODE], "False",
                            "Py_InitializeFromConfig"),
    "config-plain": (["config", "plain", EMBED_DEV_CODE], "False",
                     "Py_InitializeFromConfig"),
    "Py_Main-X-dev": (["pymain", "-X", "dev", "-c", EMBED_DEV_CODE], "True",
                      "Py_Main"),
    "Py_Main-long-option": (["pymain", "--check-hash-based-pycs", "default",
                             "-Xdev", "-c", EMBED_DEV_CODE], "True", "Py_Main"),
    "Py_Main-plain": (["pymain", "-c", EMBED_DEV_CODE], "False", "Py_Main"),
    "Py_Main-dash": (["pymain", "-c", EMBED_DEV_CODE, "-X", "dev"], "False",
                     "Py_Main"),
}


@pytest.mark.parametrize("case", list(DEV_EMBED_CASES))
def test_embedder_debug_allocator(stack, dev_embedders, case):
    """An embedder linked with libpython whose own PyConfig/PyPreConfig or
    Py_Main command line switches the debug allocator on: the same exit
    status and output as without the library (no abort at exit), and the
    library attached through the entry point the embedder called."""
    args, dev, attach = DEV_EMBED_CASES[case]
    argv = [str(dev_embedders / args[0])] + args[1:]
    # the process's own argv has a debug trigger too, where it is not the
    # embedded interpreter's: the library must not read it
    if args[0] == "config":
        argv.append("-Xdev")
    without, with_lib = harness.run_both(argv, env=_embed_env(stack), text=True)
    assert without.returncode == 0, without.stdout + without.stderr
    assert without.stdout == "DEV %s None\n" % dev, without.stdout
    assert with_lib.returncode == 0, with_lib.stdout + with_lib.stderr
    assert with_lib.stdout == "DEV %s %s\n" % (dev, attach), with_lib.stdout
    assert with_lib.stderr == without.stderr
