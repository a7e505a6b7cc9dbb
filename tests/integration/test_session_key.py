"""The key judged where the session cookie is signed and opened (issue 12).

The request guard judges SECRET_KEY at the entry of each request; a key
made weak after that (in a before_request function), or a config class
that answers config["SECRET_KEY"] from elsewhere than the dict, would
still sign that request's session cookie and open a forged one.  The
library judges the key where Flask's SecureCookieSessionInterface makes
its serializer, as Flask reads it: a refused key signs and opens nothing
(the request ends in the app's 500, session.refused is logged once).
Real servers, both stacks; forged cookies are signed in the test process
with Flask's own interface and the weak key.
"""
import flask
import pytest
from flask.sessions import SecureCookieSessionInterface

import harness
from harness import write_app

KEY = "k9F$wq2Lm8Zr-7Hc!x4Pb6Tn"
WEAK = "dev"

APP = '''
import flask

class Config(flask.Config):
    """Answers SECRET_KEY from elsewhere on /shadowed requests."""
    def __getitem__(self, key):
        if key == "SECRET_KEY" and flask.has_request_context() \\
                and flask.request.path == "/shadowed":
            return {weak!r}
        return super().__getitem__(key)

class App(flask.Flask):
    config_class = Config

app = App(__name__)
app.config["SECRET_KEY"] = {key!r}


@app.before_request
def weaken():
    """After the session was opened, until the response is sent."""
    if flask.request.path == "/weakened":
        app.config["SECRET_KEY"] = {weak!r}


@app.teardown_request
def restore(exc):
    app.config["SECRET_KEY"] = {key!r}


@app.route("/login")
@app.route("/weakened")
@app.route("/shadowed")
def login():
    user = flask.session.get("user")
    flask.session["user"] = "someone"
    return "user=%s" % user
'''.format(key=KEY, weak=WEAK)


def forged(key):
    """A session cookie saying user=admin, signed with `key`."""
    app = flask.Flask("forger")
    app.secret_key = key
    s = SecureCookieSessionInterface().get_signing_serializer(app)
    return "session=" + s.dumps({"user": "admin"})


def set_cookie(r):
    return r.headers.get("Set-Cookie") or ""


@pytest.mark.parametrize("path", ["/weakened", "/shadowed"])
@pytest.mark.parametrize("kind", ["gunicorn", "waitress", "uwsgi"])
def test_weak_key_signs_and_opens_nothing(stack, kind, path, tmp_path,
                                          start_server):
    stack.require(kind)
    app = write_app(tmp_path, APP, run_main=False)
    srv = start_server(kind, stack, app, workers=1)
    ok = srv.get("/login")
    assert ok.status == 200 and "session=" in set_cookie(ok), ok
    r = srv.get(path)
    assert r.status == 500, (r, srv.describe())
    assert "session=" not in set_cookie(r), r.headers
    r = srv.get(path, headers={"Cookie": forged(WEAK)})
    assert r.status == 500 and b"admin" not in r.body, r
    events = srv.events("session.refused")
    assert len(events) == 1 and events[0]["enforced"] is True, \
        srv.describe()
    assert events[0]["reason"] == "known value"
    # the next request, with the key restored, is served as before
    ok = srv.get("/login")
    assert ok.status == 200 and "session=" in set_cookie(ok), ok


@pytest.mark.parametrize("mode,on_violation", [("report", "refuse"),
                                               ("enforce", "warn")])
def test_report_and_warn_sign_as_asked(stack, mode, on_violation, tmp_path,
                                       start_server):
    pol = harness.write_policy(tmp_path, '''
        mode = "%s";
        secret_key = { on_violation = "%s"; };
        ''' % (mode, on_violation))
    app = write_app(tmp_path, APP, run_main=False)
    srv = start_server("gunicorn", stack, app, policy=pol, workers=1)
    r = srv.get("/shadowed", headers={"Cookie": forged(WEAK)})
    assert r.status == 200 and r.text == "user=admin", r
    assert "session=" in set_cookie(r), r.headers
    assert not srv.events("session.refused"), srv.describe()
