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
  413 and /console is not the debugger.
"""

import os
import secrets
from pathlib import Path

import pytest

import harness

PYENV = Path("/root/.pyenv/versions")
DIST = Path("/usr/lib/python3/dist-packages")
SITE311 = PYENV / "3.11.7/lib/python3.11/site-packages"

# the packages each Flask needs, by (source folder, names)
FLASK22 = (DIST, ["flask", "Flask-2.2.2.egg-info", "werkzeug", "Werkzeug-2.2.2.egg-info",
                  "jinja2", "Jinja2-3.1.2.egg-info", "markupsafe",
                  "MarkupSafe-2.1.2.egg-info", "itsdangerous",
                  "itsdangerous-2.1.2.egg-info", "click", "click-8.1.3.egg-info"])
FLASK31 = (SITE311, ["flask", "flask-3.1.3.dist-info", "werkzeug",
                     "werkzeug-3.1.8.dist-info", "jinja2", "jinja2-3.1.6.dist-info",
                     "markupsafe", "markupsafe-3.0.3.dist-info", "itsdangerous",
                     "itsdangerous-2.2.0.dist-info", "click", "click-8.4.0.dist-info",
                     "blinker", "blinker-1.9.0.dist-info"])
WAITRESS = (DIST, ["waitress", "waitress-2.1.2.dist-info"])

VERSIONS = {
    "3.8": ("3.8.18", FLASK22, "2.2.2"),
    "3.9": ("3.9.18", FLASK22, "2.2.2"),
    "3.10": ("3.10.13", FLASK31, "3.1.3"),
    "3.12": ("3.12.1", FLASK31, "3.1.3"),
    "3.13": ("3.13.0", FLASK31, "3.1.3"),
}

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


def _stack(name, tmp_path):
    version, (src, names), flask_version = VERSIONS[name]
    python = PYENV / version / "bin" / "python3"
    assert os.access(python, os.X_OK), "interpreter of the machine image missing: %s" % python
    lib = tmp_path / ("py" + name)
    lib.mkdir()
    for folder, entries in ((src, names), WAITRESS):
        for entry in entries:
            assert (folder / entry).exists(), folder / entry
            (lib / entry).symlink_to(folder / entry)
    os.chmod(lib, 0o755)
    stack = harness.Stack(name, str(python),
                          {"PYTHONPATH": str(lib), "PYTHONDONTWRITEBYTECODE": "1"})
    assert stack.flask_version == flask_version, stack
    return stack, version


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_interpreter_smoke(name, tmp_path, start_server):
    stack, version = _stack(name, tmp_path)
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
