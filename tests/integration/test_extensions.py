"""Enforcement with the real extensions that wrap or replace Flask's parts.

Error-tracking SDKs wrap ``Flask.__call__`` and call the original as
``old(self, *args, **kwargs)`` (Sentry's FlaskIntegration, python3-sentry-sdk):
an empty ``**kwargs`` is no keyword argument, and a WSGI call whose
arguments come by name binds as Python binds it.  Each app here is served
by a real server on both stacks; on the pyenv stack the Debian packages are
made importable through harness.pyenv_package_env.
"""
import pytest

import harness
from harness import write_app
from test_body import exchange

SENTRY_APP = '''
import flask
import markupsafe

# Debian's Sentry SDK (1.9) imports flask.Markup, which Flask 3 removed:
# give it back on Flask 3.1 so that the real integration loads.
if not hasattr(flask, "Markup"):
    flask.Markup = markupsafe.Markup
import sentry_sdk
from sentry_sdk.integrations.flask import FlaskIntegration

# dsn=None: the SDK patches Flask but never sends anything.
sentry_sdk.init(dsn=None, integrations=[FlaskIntegration()])
app = flask.Flask(__name__)
app.config["SECRET_KEY"] = {key!r}


@app.route("/", methods=["GET", "POST"])
def index():
    return "view ran, body %d" % len(flask.request.get_data())
'''

KWARGS_APP = '''
import flask

app = flask.Flask(__name__)
app.config["SECRET_KEY"] = "dev"


@app.route("/")
def index():
    return "view ran"


def application(environ, start_response):
    # What a wrapper may do: pass the WSGI arguments by name.
    return flask.Flask.__call__(app, environ=environ,
                                start_response=start_response)
'''


def sentry_wrapped(stack, tmp_path, key):
    env = harness.pyenv_package_env(stack, tmp_path, ["sentry_sdk"])
    app = write_app(tmp_path, SENTRY_APP.format(key=key), run_main=False)
    return app, env


@pytest.mark.parametrize("kind", ["gunicorn", "waitress"])
def test_sentry_weak_key_refused(stack, kind, tmp_path, start_server):
    app, env = sentry_wrapped(stack, tmp_path, "dev")
    srv = start_server(kind, stack, app, env=env)
    r = srv.get("/")
    assert r.status == 500, (r, srv.describe())
    assert b"view ran" not in r.body
    events = srv.events("secret_key.rejected")
    assert events and all(e["enforced"] is True for e in events), \
        srv.describe()


@pytest.mark.parametrize("kind", ["gunicorn", "waitress"])
def test_sentry_body_capped(stack, kind, tmp_path, start_server):
    """The default 16 MiB cap holds under Sentry's wrapper: 413."""
    app, env = sentry_wrapped(stack, tmp_path, "k9F$wq2Lm8Zr-7Hc!x4Pb6Tn")
    srv = start_server(kind, stack, app, env=env)
    assert srv.get("/").status == 200, srv.describe()
    n = 17 * 1024 * 1024
    ex = exchange(srv.port, "/", (b"x" * 65536 for _ in range(n // 65536)),
                  {"Content-Length": str(n)})
    assert ex.status == 413, (ex, srv.describe())


@pytest.mark.parametrize("kind", ["gunicorn", "waitress"])
def test_call_by_keyword(stack, kind, tmp_path, start_server):
    app = write_app(tmp_path, KWARGS_APP, run_main=False)
    srv = start_server(kind, stack, app, callable="application")
    r = srv.get("/")
    assert r.status == 500, (r, srv.describe())
    assert srv.events("secret_key.rejected"), srv.describe()
