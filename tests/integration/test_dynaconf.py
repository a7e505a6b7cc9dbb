"""A config class of its own, judged as Flask reads it: Dynaconf's
FlaskDynaconf, and classes written by hand.

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


def serve(stack, tmp_path, start_server, key, **extra):
    env = harness.pyenv_package_env(stack, tmp_path, ["dynaconf"])
    env.update(APP_KEY=key, FLASK_DEBUG="true", **extra)
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



def test_a_fresh_dynaconf_debug_is_logged_as_not_enforced(
        stack, shield, tmp_path, start_server):
    """DEBUG a Dynaconf "fresh var": read again from FLASK_DEBUG at every
    access, whatever is stored.  The config Flask made had DEBUG made
    False (logged enforced: true), then FlaskDynaconf's config answers
    True to the app's own reads: the log said nothing more.  It says
    enforced: false now, once."""
    srv = serve(stack, tmp_path, start_server, KEY,
                FLASK_FRESH_VARS_FOR_DYNACONF='["DEBUG"]')
    r = srv.get("/")
    assert r.status == 200 and r.text.startswith("DEBUG=True get=True"), \
        (r, srv.describe())
    srv.get("/")
    events = srv.events("debug.forced_off", key="DEBUG")
    assert [e["enforced"] for e in events] == [True, False], srv.describe()


# An app whose config is of the class {cls}, defined above it.
WITH_CLASS = '''
class App(flask.Flask):
    config_class = {cls}


app = App(__name__)
app.config["SECRET_KEY"] = {key!r}

'''


TENANT_APP = '''
import hashlib
import hmac

import flask


class TenantConfig(flask.Config):
    """Each tenant (Host) signs with its own key, derived from the base
    SECRET_KEY: only a request can give it."""
    def __getitem__(self, key):
        value = super().__getitem__(key)
        if key == "SECRET_KEY":
            return hmac.new(value.encode(), flask.request.host.encode(),
                            hashlib.sha256).hexdigest()
        return value


''' + WITH_CLASS.format(cls="TenantConfig", key=KEY) + '''

@app.route("/")
def index():
    flask.session["user"] = "someone"
    return "ok"
'''


def test_a_key_only_a_request_gives_is_judged_as_the_dict_holds_it(
        stack, shield, tmp_path, start_server):
    """A config class that derives the key from the request cannot answer
    at the entry of a request, before its context: the key was judged
    missing and every request refused.  It is judged as the dict holds it
    there, and as Flask reads it where the session is signed."""
    app = write_app(tmp_path, TENANT_APP, run_main=False)
    srv = start_server("gunicorn", stack, app, workers=1)
    r = srv.get("/")
    assert r.status == 200 and r.text == "ok", (r, srv.describe())
    assert (r.headers.get("Set-Cookie") or "").startswith("session=")
    assert not srv.events("secret_key.rejected"), srv.describe()


ENV_APP = '''
import json
import os

import flask


class EnvConfig(flask.Config):
    """12-factor: a variable of the environment overrides the key of the
    same name wherever it is read."""
    def __getitem__(self, key):
        if key.isupper() and key in os.environ:
            return json.loads(os.environ[key])
        return super().__getitem__(key)


''' + WITH_CLASS.format(cls="EnvConfig", key=KEY) + '''

@app.route("/")
def index():
    return "debug=%r config=%r" % (flask.current_app.debug,
                                   app.config["DEBUG"])
'''


def test_a_class_that_keeps_answering_true_is_logged_as_not_enforced(
        stack, shield, tmp_path, start_server):
    """A config class that answers DEBUG from the environment whatever is
    stored: Flask's own debug mode is off (app.debug), but the class still
    answers True to the app's own reads, and the log said enforced: true.
    It says enforced: false now."""
    app = write_app(tmp_path, ENV_APP, run_main=False)
    srv = start_server("gunicorn", stack, app, env={"DEBUG": "true"},
                       workers=1)
    r = srv.get("/")
    assert r.status == 200 and r.text == "debug=False config=True", \
        (r, srv.describe())
    events = srv.events("debug.forced_off", key="DEBUG")
    assert events and all(e["enforced"] is False for e in events), \
        srv.describe()
