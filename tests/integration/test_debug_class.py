"""TESTING and PROPAGATE_EXCEPTIONS are debug-class settings (issue 12).

Either one makes Flask.handle_exception re-raise an exception to the
server instead of answering Flask's own 500, and a server told to shows it
(waitress --expose-tracebacks prints the traceback into the response).
Under debug.force_off they read false where Flask reads them, from Flask()
on: app.testing, Flask 2.2's propagate_exceptions, PROPAGATE_EXCEPTIONS as
handle_exception reads it (through the config class's own methods:
Dynaconf's FlaskDynaconf keeps its values outside the dict).  An app's own
500 handler answering proves Flask, not the server, handled the error.
Real servers, both stacks; Dynaconf is Debian's python3-dynaconf.
"""
import pytest

import harness
from harness import write_app

KEY = "k9F$wq2Lm8Zr-7Hc!x4Pb6Tn"

APP = '''
import os
import flask

app = flask.Flask(__name__)
app.config["SECRET_KEY"] = {key!r}
app.config[os.environ["DEBUG_CLASS_KEY"]] = True
SEEN_AT_SETUP = (app.testing, app.config.get("PROPAGATE_EXCEPTIONS"))


@app.route("/")
def index():
    return "setup=%r now=%r" % (SEEN_AT_SETUP, flask.current_app.testing)


@app.route("/boom")
def boom():
    raise RuntimeError("secret detail in the traceback")


@app.errorhandler(500)
def handled(e):
    return "handled by the app", 500


if __name__ == "__main__":
    import waitress
    waitress.serve(app, host="127.0.0.1", port=int(os.environ["PORT"]),
                   expose_tracebacks=True)
'''.format(key=KEY)

KEYS = ("TESTING", "PROPAGATE_EXCEPTIONS")


def _boom_is_flasks(r):
    return (r.status == 500 and r.text == "handled by the app"
            and b"secret detail" not in r.body)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("kind", ["gunicorn", "uwsgi", "script"])
def test_exception_never_reaches_the_server(stack, kind, key, tmp_path,
                                            start_server):
    """kind "script": waitress.serve(..., expose_tracebacks=True); uwsgi
    runs Debian's interpreter only."""
    stack.require(kind)
    app = write_app(tmp_path, APP)
    srv = start_server(kind, stack, app, env={"DEBUG_CLASS_KEY": key})
    r = srv.get("/boom")
    assert _boom_is_flasks(r), (r, r.body[:300], srv.describe())
    if key == "TESTING":
        r = srv.get("/")
        assert r.text == "setup=(False, None) now=False", r
    events = srv.events("debug.forced_off", key=key)
    assert events and all(e["enforced"] is True for e in events), \
        srv.describe()


def test_report_mode_keeps_them(stack, tmp_path, start_server):
    """mode = "report": the exception reaches waitress, which shows it as
    asked; the log says what enforce would have done."""
    pol = harness.write_policy(tmp_path, 'mode = "report";')
    app = write_app(tmp_path, APP)
    srv = start_server("script", stack, app, policy=pol,
                       env={"DEBUG_CLASS_KEY": "PROPAGATE_EXCEPTIONS"})
    r = srv.get("/boom")
    assert r.status == 500 and b"secret detail" in r.body, r
    assert srv.events("debug.forced_off", key="PROPAGATE_EXCEPTIONS",
                      enforced=False), srv.describe()


def test_per_app_override(stack, tmp_path, start_server):
    """An apps entry with debug.force_off = false keeps all three."""
    pol = harness.write_policy(tmp_path, '''
        apps = ( { match = "__main__"; debug = { force_off = false; }; } );
        ''')
    app = write_app(tmp_path, APP)
    srv = start_server("script", stack, app, policy=pol,
                       env={"DEBUG_CLASS_KEY": "TESTING"})
    assert srv.get("/").text == "setup=(True, None) now=True"
    r = srv.get("/boom")
    assert r.status == 500 and b"secret detail" in r.body, r
    assert not srv.events("debug.forced_off"), srv.describe()


def test_set_in_code_reads_false(stack, tmp_path):
    src = APP.replace('if __name__ == "__main__":', '''
app.testing = True
print(app.testing, app.config["TESTING"])

if False:''')
    path = write_app(tmp_path, src, run_main=False)
    cp = harness.run_python(stack, [str(path)],
                            env={"DEBUG_CLASS_KEY": "TESTING"})
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["False", "False"], cp.stdout
    assert harness.find_events(cp.events, "debug.forced_off", key="TESTING",
                               enforced=True), cp.stderr


DYNACONF_APP = '''
import os
import flask
import waitress
from dynaconf import FlaskDynaconf

app = flask.Flask(__name__)
FlaskDynaconf(app, SECRET_KEY={key!r},
              **{{os.environ["DEBUG_CLASS_KEY"]: True}})


@app.route("/")
def index():
    return "debug=%r testing=%r" % (flask.current_app.debug,
                                    flask.current_app.testing)


@app.route("/boom")
def boom():
    raise RuntimeError("secret detail in the traceback")


if __name__ == "__main__":
    waitress.serve(app, host="127.0.0.1", port=int(os.environ["PORT"]),
                   expose_tracebacks=True)
'''.format(key=KEY)


@pytest.mark.parametrize("key", ("DEBUG",) + KEYS)
def test_dynaconf_never_reaches_the_server(stack, key, tmp_path,
                                           start_server):
    """FlaskDynaconf answers config[...] from its own settings, not the
    dict: Flask still reads the keys as false, and an exception is a 500
    page, never waitress's exposed traceback."""
    env = harness.pyenv_package_env(stack, tmp_path, ["dynaconf"])
    env["DEBUG_CLASS_KEY"] = key
    app = write_app(tmp_path, DYNACONF_APP)
    srv = start_server("script", stack, app, env=env)
    assert srv.get("/").text == "debug=False testing=False"
    r = srv.get("/boom")
    assert r.status == 500, (r, srv.describe())
    assert b"secret detail" not in r.body and b"Traceback" not in r.body, \
        r.body
    events = srv.events("debug.forced_off", key=key)
    assert events and all(e["enforced"] is True for e in events), \
        srv.describe()
