"""Debug enforced where Flask reads it: the Flask.debug property (issue 12).

The app, its setup code, its extensions, template auto-reload and
exception propagation all read ``app.debug``; under ``debug.force_off`` it
is False from ``Flask()`` on, whatever set it (FLASK_DEBUG, the CLI,
``app.debug = True``) and whatever config class holds DEBUG (Dynaconf's
FlaskDynaconf: test_debug_class, with the other debug-class keys).  Served
by real servers on both stacks.
"""
import socket

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


CONFIG_SETUP_APP = '''
import flask


def create_app():
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = {key!r}
    seen = app.config["DEBUG"]
    if app.config["DEBUG"]:
        @app.route("/_debug/config")
        def dump():
            return flask.jsonify({{k: str(v) for k, v in app.config.items()}})

    @app.route("/")
    def index():
        return "seen=%r" % (seen,)
    return app


app = create_app()
'''.format(key=KEY)


@pytest.mark.parametrize("mode", ["enforce", "report"])
def test_config_debug_off_at_setup(stack, mode, tmp_path, start_server):
    """Setup code that reads app.config["DEBUG"] itself (a factory that
    registers a config dump "in debug"): under FLASK_DEBUG=1 the config
    Flask made read True until the first request, so the dump was served.
    Now the config Flask makes has DEBUG False.  In report mode the app
    keeps it, and the log says so."""
    policy = harness.write_policy(tmp_path, 'mode = "%s";' % mode)
    app = write_app(tmp_path, CONFIG_SETUP_APP, run_main=False)
    srv = start_server("gunicorn", stack, app, policy=policy,
                       env={"FLASK_DEBUG": "1"}, workers=1)
    on = mode == "report"
    r = srv.get("/")
    assert r.status == 200 and r.text == "seen=%r" % on, (r, srv.describe())
    assert srv.get("/_debug/config").status == (200 if on else 404)
    events = srv.events("debug.forced_off", key="DEBUG")
    assert events and all(e["enforced"] is not on
                          and e["source"] == "environment"
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


OWN_WSGI_APP = '''
import flask

class App(flask.Flask):
    """A wsgi_app of its own that never calls Flask's: the request guard
    does not run; every setting must still hold where Flask reads it."""
    def wsgi_app(self, environ, start_response):
        ctx = self.request_context(environ)
        ctx.push()
        try:
            try:
                response = self.full_dispatch_request()
            except Exception as e:
                response = self.handle_exception(e)
            return response(environ, start_response)
        finally:
            ctx.pop()

app = App(__name__)
app.config["SECRET_KEY"] = {key!r}


@app.route("/", methods=["GET", "POST"])
def index():
    n = len(flask.request.get_data())
    return "debug=%r n=%d" % (flask.current_app.debug, n)


@app.route("/weak")
def weak():
    app.config["SECRET_KEY"] = "dev"
    flask.session["user"] = "someone"
    return "signed?"
'''.format(key=KEY)


def raw_post(port, body, chunked=False):
    """POST / with the whole request in one write, before the server can
    answer (a 413 sent before the body is read would break a client that
    writes the body afterwards); (status, body)."""
    if chunked:
        head = b"Transfer-Encoding: chunked\r\n"
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        head = b"Content-Length: %d\r\n" % len(body)
    req = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
           + head + b"\r\n" + body)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(req)
        data = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            data += piece
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("kind", ["gunicorn", "waitress"])
def test_own_wsgi_app_without_the_guard(stack, kind, tmp_path, start_server):
    """Nothing depends on the request guard running: debug off at the
    property, bodies bounded where the request makes its stream (chunked
    and declared), a weak key signs no session.  (Not uWSGI: its HTTP
    socket resets a connection whose body it did not read, which may drop
    the 413 before the client reads it.)"""
    app = write_app(tmp_path, OWN_WSGI_APP, run_main=False)
    pol = harness.write_policy(tmp_path, "body = { max_content_length = 2000; };")
    srv = start_server(kind, stack, app, policy=pol, env={"FLASK_DEBUG": "1"},
                       workers=1)
    r = srv.get("/")
    assert r.status == 200 and r.text == "debug=False n=0", (r, srv.describe())
    big = b"x" * 5000
    for chunked in (False, True):
        status, body = raw_post(srv.port, big, chunked)
        assert status == 413, (chunked, status, body[:200])
    status, body = raw_post(srv.port, b"x" * 1000, chunked=True)
    assert (status, body) == (200, b"debug=False n=1000"), body
    r = srv.get("/weak")
    assert r.status == 500 and "session=" not in (
        r.headers.get("Set-Cookie") or ""), r.headers
    assert srv.events("session.refused", enforced=True), srv.describe()


def test_debug_property_functions_by_name(stack, tmp_path):
    """The property's own functions, however called -- fset(app, value=True),
    fset(self=app, value=True), __set__(app, True), fget(self=app) -- do as
    `app.debug = True` and `app.debug` do: DEBUG stays False, templates do
    not auto-reload, the getter reads False; the same for `testing`; a call
    the property's function rejects is its TypeError."""
    src = SETUP_APP + '''
import flask
prop = flask.Flask.debug
sets = {
    "assigned": lambda: setattr(app, "debug", True),
    "fset positional": lambda: prop.fset(app, True),
    "fset value by name": lambda: prop.fset(app, value=True),
    "fset all by name": lambda: prop.fset(value=True, self=app),
    "__set__": lambda: type(app).debug.__set__(app, True),
}
for how, call in sets.items():
    call()
    print(how, app.config["DEBUG"], app.jinja_env.auto_reload, app.debug)
app.config["DEBUG"] = True
print("fget by name", prop.fget(self=app), prop.fget(app))
testing = flask.Flask.testing       # a ConfigAttribute, made a property
testing.fset(obj=app, value=True)
testing.fset(app, value=True)
print("testing", app.config["TESTING"])
app.config["TESTING"] = True
print("testing fget", testing.fget(obj=app), testing.fget(app, flask.Flask))
for bad in (lambda: prop.fset(app, True, value=True),
            lambda: prop.fset(app), lambda: prop.fset(app, True, True),
            lambda: prop.fset(app, bogus=True), lambda: prop.fget(),
            lambda: prop.fget(app, self=app)):
    try:
        bad()
        print("no error")
    except TypeError:
        print("TypeError")
'''
    path = write_app(tmp_path, src, run_main=False)
    cp = harness.run_python(stack, [str(path)])
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    assert lines[:5] == [how + " False False False" for how in (
        "assigned", "fset positional", "fset value by name",
        "fset all by name", "__set__")], cp.stdout
    assert lines[5:] == ["fget by name False False", "testing False",
                         "testing fget False False"] + ["TypeError"] * 6, \
        cp.stdout
    assert len(harness.find_events(cp.events, "debug.forced_off",
                                   enforced=True)) >= 1, cp.stderr
