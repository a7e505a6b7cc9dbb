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


NESTED = '''
import flask

def make(name, key):
    app = flask.Flask(name)
    app.config["SECRET_KEY"] = key

    @app.route("/login")
    def login():
        if flask.request.args.get("weaken"):
            app.config["SECRET_KEY"] = {weak!r}
        flask.session["user"] = "someone"
        return name
    return app

outer = make("outer", {key!r})
inner = make("inner", {key!r})

@outer.route("/proxy")
def proxy():
    """A request of the inner app made inside one of the outer app's."""
    r = inner.test_client().get("/login?weaken=1")
    cookie = "session=" in (r.headers.get("Set-Cookie") or "")
    return "%d %s" % (r.status_code, cookie)

@outer.route("/context")
def context():
    """The inner app's session signer made inside the outer app's
    request, without a request of the inner app."""
    inner.config["SECRET_KEY"] = {weak!r}
    try:
        signer = inner.session_interface.get_signing_serializer(inner)
        return "200 %s" % (signer is not None)
    except RuntimeError:
        return "500 False"
    finally:
        inner.config["SECRET_KEY"] = {key!r}

for path in ("/proxy", "/context"):
    r = outer.test_client().get(path)
    print("RESULT", path, r.status_code, r.get_data(as_text=True))
'''.format(key=KEY, weak=WEAK)


@pytest.mark.parametrize("outer_mode,inner_mode,want", [
    ("report", "enforce", "500 False"),     # the inner's key refused
    ("enforce", "report", "200 True"),      # the inner only reported
])
def test_a_request_inside_another_apps_is_judged_by_its_own_policy(
        stack, outer_mode, inner_mode, want, tmp_path):
    """The key check where the session is signed uses the state of the
    request's app: for an app called inside another app's request (a
    dispatcher, a test client in a view), its own, not the outer one's."""
    pol = harness.write_policy(tmp_path, '''
        apps = ( { match = "outer"; mode = "%s"; },
                 { match = "inner"; mode = "%s"; } );
        ''' % (outer_mode, inner_mode))
    script = harness.write_file(tmp_path, "nested.py", NESTED)
    cp = harness.run_python(stack, [str(script)], policy=pol)
    for path in ("/proxy", "/context"):
        assert ("RESULT %s 200 %s" % (path, want)) in cp.stdout, (cp.stdout, cp.stderr)
    refused = [e for e in cp.events if e.get("event") == "session.refused"]
    assert len(refused) == (1 if inner_mode == "enforce" else 0), cp.events
    assert all(e["app"] == "inner" for e in refused), refused


BY_NAME = '''
import flask
from flask.sessions import SecureCookieSessionInterface

app = flask.Flask("byname")
app.config["SECRET_KEY"] = {weak!r}
si = app.session_interface
orig = SecureCookieSessionInterface.get_signing_serializer

for label, call in [
        ("bound", lambda: si.get_signing_serializer(app)),
        ("bound-app-named", lambda: si.get_signing_serializer(app=app)),
        ("class", lambda: orig(si, app)),
        ("class-app-named", lambda: orig(si, app=app)),
        ("class-all-named", lambda: orig(self=si, app=app)),
        ("class-mapping", lambda: orig(*(), **{{"self": si, "app": app}})),
        ("class-empty-kwargs", lambda: orig(si, app, **{{}})),
]:
    try:
        print(label, "signed", call().dumps({{"user": "admin"}}))
    except RuntimeError:
        print(label, "refused")
'''.format(weak=WEAK)


def test_the_signer_asked_for_directly_is_judged_however_it_is_called(
        stack, tmp_path):
    """get_signing_serializer called outside a request, by the app's own
    code, however the call passes its arguments (every one by name, self
    too, took the ordinary form, which found no app and signed with "dev"):
    the weak key signs nothing."""
    script = harness.write_file(tmp_path, "byname.py", BY_NAME)
    cp = harness.run_python(stack, [str(script)])
    assert cp.returncode == 0, cp.stderr[-3000:]
    labels = ["bound", "bound-app-named", "class", "class-app-named",
              "class-all-named", "class-mapping", "class-empty-kwargs"]
    assert cp.stdout.splitlines() == [l + " refused" for l in labels], cp.stdout
    refused = [e for e in cp.events if e.get("event") == "session.refused"]
    assert len(refused) == 1 and refused[0]["app"] == "byname", cp.events


SUBCLASS = '''
import flask

class Attribute(flask.Flask):
    secret_key = {weak!r}           # over Flask's ConfigAttribute

class Property(flask.Flask):
    @property
    def secret_key(self):
        return {weak!r}

class InRequest(flask.Flask):
    """A key only a request can give: the config's outside one."""
    @property
    def secret_key(self):
        return self.config[flask.request.args.get("key", "SECRET_KEY")]

for cls in (Attribute, Property, InRequest, flask.Flask):
    app = cls(cls.__name__.lower())
    app.config["SECRET_KEY"] = {key!r}
    app.config["OTHER_KEY"] = {weak!r}

    @app.route("/login")
    def login():
        flask.session["user"] = "someone"
        return "in"

    client = app.test_client()
    for path in ("/login", "/login?key=OTHER_KEY"):
        r = client.get(path)
        print(cls.__name__, path, r.status_code,
              "session=" in (r.headers.get("Set-Cookie") or ""))
    try:
        app.session_interface.get_signing_serializer(app).dumps({{"u": "x"}})
        print(cls.__name__, "signed")
    except RuntimeError as e:           # Flask's own outside a request
        print(cls.__name__, "refused" if "flaskshield" in str(e) else "raised")
'''.format(key=KEY, weak=WEAK)


def test_a_subclass_answering_secret_key_itself_is_judged_by_its_answer(
        stack, tmp_path):
    """Flask signs with app.secret_key; a subclass of Flask may answer it
    otherwise than config["SECRET_KEY"] (a class attribute, a property).
    The library judged the config's key, so a strong key there let "dev"
    sign every session cookie.  Now the key Flask reads is judged: at the
    entry of the request (the library's 500) and where the session is
    signed; a key that only a request can give is judged there, and the
    config's at the entry."""
    script = harness.write_file(tmp_path, "subclass.py", SUBCLASS)
    cp = harness.run_python(stack, [str(script)])
    assert cp.returncode == 0, cp.stderr[-3000:]
    assert cp.stdout.splitlines() == [
        "Attribute /login 500 False", "Attribute /login?key=OTHER_KEY 500 False",
        "Attribute refused",
        "Property /login 500 False", "Property /login?key=OTHER_KEY 500 False",
        "Property refused",
        "InRequest /login 200 True", "InRequest /login?key=OTHER_KEY 500 False",
        "InRequest raised",
        "Flask /login 200 True", "Flask /login?key=OTHER_KEY 200 True",
        "Flask signed",
    ], cp.stdout
    rejected = {e["app"] for e in cp.events
                if e.get("event") == "secret_key.rejected"}
    assert rejected == {"attribute", "property", "inrequest"}, cp.events
