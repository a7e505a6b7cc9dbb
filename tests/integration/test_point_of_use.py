"""Debug enforced where Flask reads it: the Flask.debug property (issue 12).

The app, its setup code, its extensions, template auto-reload and
exception propagation all read ``app.debug``; under ``debug.force_off`` it
is False from ``Flask()`` on, whatever set it (FLASK_DEBUG, the CLI,
``app.debug = True``) and whatever config class holds DEBUG (Dynaconf's
FlaskDynaconf reads from its own settings, not the dict).  Served by real
servers on both stacks; Dynaconf is Debian's python3-dynaconf.
"""
import pytest

import harness
from harness import write_app

KEY = "k9F$wq2Lm8Zr-7Hc!x4Pb6Tn"

SETUP_APP = '''
import flask

app = flask.Flask(__name__)
app.config["SECRET_KEY"] = {key!r}
SEEN_AT_SETUP = app.debug

if app.debug:
    @app.route("/debug-only")
    def debug_only():
        return "debug-only route"


@app.route("/")
def index():
    return "setup=%r now=%r" % (SEEN_AT_SETUP, flask.current_app.debug)
'''.format(key=KEY)


@pytest.mark.parametrize("kind", ["gunicorn", "waitress"])
def test_debug_off_at_setup(stack, kind, tmp_path, start_server):
    app = write_app(tmp_path, SETUP_APP, run_main=False)
    srv = start_server(kind, stack, app, env={"FLASK_DEBUG": "1"})
    r = srv.get("/")
    assert r.status == 200 and r.text == "setup=False now=False", \
        (r, srv.describe())
    assert srv.get("/debug-only").status == 404
    events = srv.events("debug.forced_off")
    assert events, srv.describe()
    assert all(e["enforced"] is True and e["source"] == "environment"
               for e in events), events


def test_debug_set_in_code_reads_false(stack, tmp_path):
    src = SETUP_APP + '''
app.debug = True
print(app.debug, app.jinja_env.auto_reload)
'''
    path = write_app(tmp_path, src, run_main=False)
    cp = harness.run_python(stack, [str(path)])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["False", "False"], cp.stdout
    assert harness.find_events(cp.events, "debug.forced_off",
                               enforced=True), cp.stderr


def test_report_mode_keeps_debug(stack, tmp_path):
    """mode = "report": the app keeps its debug, the log says so."""
    policy = harness.write_policy(tmp_path, 'mode = "report";')
    path = write_app(tmp_path, SETUP_APP + "\nprint(app.debug)\n",
                     run_main=False)
    cp = harness.run_python(stack, [str(path)], policy=policy,
                            env={"FLASK_DEBUG": "1"})
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["True"], cp.stdout
    assert harness.find_events(cp.events, "debug.forced_off",
                               enforced=False), cp.stderr


DYNACONF_APP = '''
import os
import flask
import waitress
from dynaconf import FlaskDynaconf

app = flask.Flask(__name__)
FlaskDynaconf(app, DEBUG=True, SECRET_KEY={key!r})


@app.route("/")
def index():
    return "debug=%r" % flask.current_app.debug


@app.route("/boom")
def boom():
    raise RuntimeError("secret detail in the traceback")


if __name__ == "__main__":
    waitress.serve(app, host="127.0.0.1", port=int(os.environ["PORT"]),
                   expose_tracebacks=True)
'''.format(key=KEY)


def test_dynaconf_debug_never_reaches_the_server(stack, tmp_path,
                                                 start_server):
    """FlaskDynaconf keeps DEBUG=True in its own settings: Flask still sees
    debug off, and an exception is a 500 page, never waitress's exposed
    traceback (debug made Flask propagate it)."""
    env = harness.pyenv_package_env(stack, tmp_path, ["dynaconf"])
    app = write_app(tmp_path, DYNACONF_APP)
    srv = start_server("script", stack, app, env=env)
    r = srv.get("/")
    assert r.status == 200 and r.text == "debug=False", (r, srv.describe())
    r = srv.get("/boom")
    assert r.status == 500, (r, srv.describe())
    assert b"secret detail" not in r.body and b"Traceback" not in r.body, \
        r.body
    events = srv.events("debug.forced_off")
    assert events and all(e["enforced"] is True for e in events), \
        srv.describe()
