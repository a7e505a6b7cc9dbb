"""test_interpreters.py -- a smoke subset on every CPython of the machine image.

Besides the two 3.11 stacks of the rest of the suite, pyenv's 3.8 and 3.9
run Debian's Flask 2.2 and 3.10, 3.12 and 3.13 run pyenv 3.11's Flask 3.1
(both pure Python, made importable through a PYTHONPATH folder of symlinks
to just the packages they need, with Debian's waitress), with the library
preloaded:

- `python -c pass` and `import flask` alone: the same output and status as
  without the library, and no line from it for the former;
- served by waitress over HTTP on loopback, an app with DEBUG on, the key
  "dev", no body limit and a hand-made DebuggedApplication: the key is
  refused (500, secret_key.rejected, activate naming the interpreter's
  version); with a strong key, the view sees debug off, a 17 MiB body gets
  413 and /console is not the debugger;
- in process, no library type can be instantiated from Python, however
  asked (test_objects.TYPES_SCRIPT: on 3.8 and 3.9 the types stay mutable
  and the library's tp_alloc refuses; on 3.10 and later they are immutable
  and not instantiable).

Every function and data symbol of the library's C-API table (shim/fs_api.h,
with the older spellings of shim/fs_api.c's alias list) is looked for in
the dynamic symbols of each interpreter, the Debian static one included.

pyenv's 3.6 and 3.7 have no audit hooks (PEP 578), so the library cannot
protect them; it stays inert there (no Flask runs on them on this image:
a stub package named flask on PYTHONPATH stands in for it), and their
output is the same with and without the library.
"""

import json
import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest

import harness
from test_objects import TYPES_SCRIPT

PYENV = harness.PYENV_VERSIONS
VERSIONS = harness.OTHER_PYTHONS

APP = '''
from flask import Flask, request
from werkzeug.debug import DebuggedApplication

app = Flask(__name__)
app.config["DEBUG"] = True
app.config["SECRET_KEY"] = %r

@app.route("/")
def index():
    return "debug=%%s" %% app.debug

@app.route("/upload", methods=["POST"])
def upload():
    return str(len(request.get_data()))

app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)
'''


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_interpreter_smoke(name, tmp_path, start_server):
    stack, version = harness.other_python_stack(name, tmp_path)
    policy = harness.write_policy(tmp_path, "version = 1;\n")

    for code in ("pass", "import flask; print(flask.Flask.__name__)"):
        argv = [stack.python, "-c", code]
        without, with_lib = harness.run_both(argv, stack=stack, policy=policy)
        assert with_lib.returncode == without.returncode == 0, with_lib.stderr
        assert with_lib.stdout == without.stdout, (with_lib.stdout, without.stdout)
        if code == "pass":
            assert with_lib.stderr == without.stderr, with_lib.stderr

    weak = harness.write_app(tmp_path / "weak", APP % "dev", run_main=False)
    srv = start_server("waitress", stack, weak, policy=policy)
    r = srv.get("/")
    assert r.status == 500, r
    assert b"Traceback" not in r.body and b"Werkzeug Debugger" not in r.body, r.body
    srv.wait_for_event("secret_key.rejected")
    activate = srv.events("activate")
    assert activate and activate[0]["python"] == version, activate
    srv.stop()

    strong = harness.write_app(tmp_path / "strong", APP % secrets.token_hex(32),
                               run_main=False)
    srv = start_server("waitress", stack, strong, policy=policy)
    r = srv.get("/")
    assert r.status == 200 and r.body == b"debug=False", r
    r = srv.post("/upload", b"x" * (17 << 20))
    assert r.status == 413, r
    r = srv.post("/upload", b"x" * 1000)
    assert r.status == 200 and r.body == b"1000", r
    r = srv.get("/console")
    assert b"Werkzeug Debugger" not in r.body and b"console" not in r.body.lower(), r
    assert srv.events("debugger.blocked"), srv.stderr_text()
    srv.stop()

    cp = harness.run_python(stack, ["-c", TYPES_SCRIPT], policy=policy)
    assert cp.returncode == 0, (cp.stdout, cp.stderr[-3000:])
    assert cp.stdout.count("refused") == 6, cp.stdout


LIBPYTHON = {
    "3.6": PYENV / "3.6.15/lib/libpython3.6m.so",
    "3.7": PYENV / "3.7.16/lib/libpython3.7m.so",
    "3.8": PYENV / "3.8.18/lib/libpython3.8.so",
    "3.9": PYENV / "3.9.18/lib/libpython3.9.so",
    "3.10": PYENV / "3.10.13/lib/libpython3.10.so",
    "3.11": PYENV / "3.11.7/lib/libpython3.11.so",
    "3.12": PYENV / "3.12.1/lib/libpython3.12.so",
    "3.13": PYENV / "3.13.0/lib/libpython3.13.so",
    "debian": Path("/usr/bin/python3.11"),      # static: the executable exports the API
}


def _api_table():
    """The symbols the library resolves, and the older spellings it accepts."""
    shim = harness.REPO / "shim"
    header = (shim / "fs_api.h").read_text()
    names = re.findall(r"^\s+X\((?:[^,()]|\([^)]*\))+,\s*(\w+)\s*[,)]", header, re.M)
    aliases = dict(re.findall(r'\{"(\w+)", "(\w+)"\}', (shim / "fs_api.c").read_text()))
    assert len(names) > 80 and "PyInterpreterState_GetDict" in names, names
    return names, aliases


@pytest.mark.parametrize("name", sorted(LIBPYTHON))
def test_api_table_resolves(name):
    names, aliases = _api_table()
    out = subprocess.run(["nm", "-D", "--defined-only", str(LIBPYTHON[name])],
                         capture_output=True, text=True, check=True).stdout
    syms = {line.split()[-1] for line in out.splitlines() if line.strip()}
    missing = [n for n in names if n not in syms and aliases.get(n) not in syms]
    if name in ("3.6", "3.7"):
        # no audit hooks: the library never resolves more than the probe
        assert "PySys_AddAuditHook" in missing, missing
    else:
        assert missing == [], missing


@pytest.mark.parametrize("version", ["3.6.15", "3.7.16"])
def test_interpreters_without_audit_hooks_say_so_once(version, tmp_path):
    """3.6 and 3.7 have no audit hooks: the library patches nothing there,
    changes nothing a program prints, and at the first import of Flask
    (a stub here) writes one python.unsupported line on stderr -- nothing
    for a program that does not import Flask, or fails to."""
    python = PYENV / version / "bin" / "python3"
    assert os.access(python, os.X_OK), python
    stub = tmp_path / "stub" / "flask"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("print('stub flask')\n")
    (stub / "app.py").write_text("")
    policy = harness.write_policy(tmp_path, "version = 1;\n")
    env = {"PYTHONPATH": str(tmp_path / "stub"), "PYTHONDONTWRITEBYTECODE": "1"}
    listing = "import sys; print(sorted(m for m in sys.modules if 'flaskshield' in m))"
    for code, notices in (
            ("pass", 0),
            ("import json; import nosuch_flask", 0),
            ("import flask, flask; import flask.app; " + listing, 1),
            ("import flask.app; " + listing, 1),
            ("from flask import app; import flask; " + listing, 1)):
        without, with_lib = harness.run_both(
            [str(python), "-c", code], policy=policy, env=env, text=True)
        assert with_lib.returncode == without.returncode, with_lib.stderr
        assert with_lib.stdout == without.stdout, with_lib.stdout
        lines = with_lib.stderr.splitlines()
        extra = [line for line in lines if "flaskshield" in line]
        assert [line for line in lines if line not in extra] \
            == without.stderr.splitlines(), with_lib.stderr
        assert len(extra) == notices, with_lib.stderr
        if notices:
            ev = json.loads(extra[0])
            assert ev["event"] == "python.unsupported", ev
            assert ev["reason"] == "CPython %s has no audit hooks (PEP 578)" \
                % version.rsplit(".", 1)[0], ev


def test_free_threaded_build_is_named_once_and_left_alone(stack, tmp_path):
    """A free-threaded CPython (3.13t) lays objects out differently, so the
    library must not touch them (before: it read every import's module name
    through Py_TYPE(), which such a build does not have there).  There is no
    free-threaded interpreter on the image: a stand-in shared object that
    defines the one symbol the library takes as the sign of such a build
    (_Py_DecRefShared), preloaded after the library into each stack's
    interpreter, makes the library treat it as one.  Then nothing is
    patched, `python -c pass` and a Werkzeug import print nothing, and the
    first Flask import writes one python.unsupported line."""
    src = harness.write_file(tmp_path, "ft.c", "void _Py_DecRefShared(void *o) { (void)o; }\n")
    fake = tmp_path / "libft.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(fake), str(src)], check=True)
    env = {"LD_PRELOAD": harness.preload_value() + " " + str(fake)}
    policy = harness.write_policy(tmp_path, "version = 1;\n")
    patched = "print(type(flask.Flask.__dict__['wsgi_app']).__name__)"
    for code, out, notices in (
            ("pass", "", 0),
            ("import werkzeug.serving", "", 0),
            ("import flask, flask.app; import werkzeug.debug; " + patched, "function\n", 1)):
        cp = harness.run_python(stack, ["-c", code], env=env, policy=policy)
        assert cp.returncode == 0, cp.stderr
        assert cp.stdout == out, cp.stdout
        assert len(cp.events) == notices, cp.stderr
        if notices:
            assert harness.find_events(
                cp.events, "python.unsupported",
                reason="free-threaded build (Py_GIL_DISABLED)"), cp.stderr
        else:
            assert "flaskshield" not in cp.stderr, cp.stderr
