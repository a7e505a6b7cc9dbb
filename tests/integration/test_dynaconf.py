"""A config class of its own, judged as Flask reads it: Dynaconf's FlaskDynaconf.

FlaskDynaconf makes app.config a flask.Config whose item access goes to
Dynaconf's own settings: what the app sets after FlaskDynaconf(app)
(app.secret_key, app.config[...]) lives there, not in the dict, and Flask
reads it from there.  The library read and wrote the dict itself, so:
a strong key set through Dynaconf was judged "missing" and every request
of a correct app was refused; DEBUG, forced off in the dict, still read
True through app.config (an error handler that shows the traceback "in
debug"); a pinned key, written into the dict, stayed as the app set it.
Now every key the library judges is read through the config's class and
what it corrects is written through it too (and into the dict).  Real
servers (gunicorn), both stacks; Dynaconf is Debian's python3-dynaconf.
"""
import harness
from harness import write_app

KEY = "k9F$wq2Lm8Zr-7Hc!x4Pb6Tn"

APP = '''
import os
import traceback

import flask
from dynaconf import FlaskDynaconf

app = flask.Flask(__name__)
FlaskDynaconf(app)
# Set after FlaskDynaconf: kept in Dynaconf's settings, not in the dict.
app.secret_key = os.environ["APP_KEY"]
app.config["SESSION_COOKIE_SECURE"] = False


@app.route("/")
def index():
    flask.session["user"] = "someone"
    return "DEBUG=%r get=%r SECURE=%r" % (
        app.config["DEBUG"], app.config.get("DEBUG"),
        app.config["SESSION_COOKIE_SECURE"])


@app.route("/boom")
def boom():
    raise RuntimeError("secret detail in the traceback")


@app.errorhandler(500)
def error(e):
    if app.config.get("DEBUG"):
        return "<pre>%s</pre>" % "".join(
            traceback.format_exception(e.original_exception)), 500
    return "internal error", 500
'''

POLICY = '''
config = { SESSION_COOKIE_SECURE = true; };
'''


def serve(stack, tmp_path, start_server, key):
    env = harness.pyenv_package_env(stack, tmp_path, ["dynaconf"])
    env.update(APP_KEY=key, FLASK_DEBUG="true")
    app = write_app(tmp_path, APP, run_main=False)
    policy = harness.write_policy(tmp_path, POLICY)
    return start_server("gunicorn", stack, app, policy=policy, env=env,
                        workers=1)


def test_a_strong_key_set_through_dynaconf_serves(stack, shield, tmp_path,
                                                  start_server):
    """The key Flask signs with is Dynaconf's: the app serves and signs
    its session cookie; DEBUG reads False through the config, however the
    app reads it, and the error handler shows no traceback; the pinned
    SESSION_COOKIE_SECURE holds where Flask reads it (the cookie is
    Secure)."""
    srv = serve(stack, tmp_path, start_server, KEY)
    r = srv.get("/")
    assert r.status == 200, (r, r.body[:300], srv.describe())
    assert r.text == "DEBUG=False get=False SECURE=True", r.text
    cookie = r.headers.get("Set-Cookie") or ""
    assert cookie.startswith("session=") and "Secure" in cookie, cookie
    r = srv.get("/boom")
    assert r.status == 500 and r.text == "internal error", \
        (r, r.body[:300], srv.describe())
    assert not srv.events("secret_key.rejected"), srv.describe()
    assert srv.events("debug.forced_off", key="DEBUG", enforced=True), \
        srv.describe()
    assert srv.events("config.pinned", key="SESSION_COOKIE_SECURE"), \
        srv.describe()


def test_a_weak_key_set_through_dynaconf_is_refused(stack, shield, tmp_path,
                                                    start_server):
    """The same app with "dev" set through Dynaconf: judged as Flask reads
    it, refused (the library's 500), nothing signed."""
    srv = serve(stack, tmp_path, start_server, "dev")
    r = srv.get("/")
    assert r.status == 500, (r, r.body[:300], srv.describe())
    assert "session=" not in (r.headers.get("Set-Cookie") or "")
    events = srv.events("secret_key.rejected")
    assert events and events[0]["reason"] != "missing", srv.describe()

