"""test_objects.py -- every library object and patched entry point, misused.

An in-process script (both stacks; under the sanitizer build too when
FLASKSHIELD_BUILD names it) drives each object the library hands to Python
-- the patched Flask.wsgi_app, Flask.run, run_simple and
DebuggedApplication.__call__, the Limit descriptors, the bounded input, the
import finder, the app state, flaskshield.status() -- with wrong types,
wrong arities, None, huge and negative numbers, lone surrogates and NUL
bytes.  Each call must end in a normal Python exception or a normal result:
never a crash, never a BaseException that is not one (a SystemError from a
result returned with an exception set counts as a failure).  Then reference
counts: over 2,000 more requests the app, its config and the library's
objects hold no more references, and the number of live objects does not
grow.
"""

import textwrap

import harness

SCRIPT = r'''
import gc, io, sys
import flask, flaskshield, werkzeug.debug, werkzeug.serving
from werkzeug.test import EnvironBuilder

app = flask.Flask("objects")
app.config["SECRET_KEY"] = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"
grab = {}

@app.route("/", methods=["GET", "POST"])
def index():
    grab["input"] = flask.request.environ["wsgi.input"]
    grab["request"] = flask.request._get_current_object()
    if flask.request.method == "POST":
        misuse_input(flask.request.environ["wsgi.input"])
        misuse_request(flask.request._get_current_object())
    return "ok"

calls = [0]
failures = []

class Bad:
    def __bool__(self):
        raise ValueError("bool")
    def __index__(self):
        raise ValueError("index")
    def __str__(self):
        raise ValueError("str")
    def __len__(self):
        raise ValueError("len")
    def __iter__(self):
        raise ValueError("iter")

def sr(status, headers, exc_info=None):
    return lambda data: None

JUNK = [None, 0, -1, 2**100, -2**100, sys.maxsize, "x", "\udc80", "a\x00b",
        b"x", bytearray(b"x"), 1.5, float("nan"), [], {}, (), object(), Bad(),
        app, print]

def attempt(label, fn, *args, **kwargs):
    calls[0] += 1
    try:
        fn(*args, **kwargs)
    except SystemError as e:
        failures.append("%s: SystemError %s" % (label, e))
    except Exception:
        pass

# the bounded input and the Limit descriptors, from inside a request
def misuse_input(inp):
    for meth in ("read", "readline", "readlines"):
        f = getattr(inp, meth)
        for j in JUNK:
            attempt("input.%s(%r)" % (meth, type(j)), f, j)
        attempt("input.%s(1, 2)" % meth, f, 1, 2)
        attempt("input.%s(size=1)" % meth, f, size=1)
    attempt("iter(input)", lambda: list(inp))
    attempt("input.nosuch", getattr, inp, "nosuch")
    attempt("input attr junk", getattr, inp, "\udc80")

def misuse_request(req):
    cls = type(req)
    for name in ("max_content_length", "max_form_memory_size", "max_form_parts"):
        d = None
        for c in cls.__mro__:
            if name in c.__dict__:
                d = c.__dict__[name]
                break
        if d is None or not hasattr(d, "__get__"):
            continue
        for j in JUNK:
            attempt("Limit.__get__(%r)" % type(j), d.__get__, j, cls)
            attempt("req.%s = %r" % (name, type(j)), setattr, req, name, j)
            if hasattr(d, "__set__"):
                attempt("Limit.__set__(%r)" % type(j), d.__set__, j, 1)
        attempt("Limit.__get__()", d.__get__)
        attempt("getattr(req, %s)" % name, getattr, req, name)

def environs():
    yield {}
    yield {"REQUEST_METHOD": "GET"}
    e = EnvironBuilder(path="/").get_environ()
    yield e
    for k, v in (("CONTENT_LENGTH", "9" * 400), ("CONTENT_LENGTH", "-1"),
                 ("CONTENT_LENGTH", "\udc80"), ("CONTENT_LENGTH", 12),
                 ("CONTENT_LENGTH", None), ("wsgi.input", None),
                 ("wsgi.input", Bad()), ("HTTP_TRANSFER_ENCODING", "chunked"),
                 ("REQUEST_METHOD", None), ("PATH_INFO", Bad())):
        e = EnvironBuilder(path="/", method="POST", data=b"abc").get_environ()
        e[k] = v
        yield e

# Flask.wsgi_app (the guard) and app(...)
call = flask.Flask.__dict__["wsgi_app"]
for j in JUNK:
    attempt("Flask.wsgi_app(%r)" % type(j), call, j)
    attempt("Flask.wsgi_app(app, %r, sr)" % type(j), call, app, j, sr)
    attempt("app(%r, %r)" % (type(j), type(j)), app, j, j)
for e in environs():
    attempt("app(environ)", lambda: b"".join(app(dict(e), sr)))
    attempt("app(environ=..)", lambda: b"".join(app(environ=dict(e), start_response=sr)))
    attempt("call(app, **kw)", lambda: b"".join(call(app, **{"environ": dict(e), "start_response": sr})))
attempt("Flask.wsgi_app()", call)
attempt("Flask.wsgi_app extra", call, app, {}, sr, 1, 2)
attempt("Flask.wsgi_app kw only", call, app, x=1)
attempt("descriptor", call.__get__, None, None)
attempt("descriptor", call.__get__, 1)
attempt("descriptor", call.__get__)

# Flask.run: never far enough to serve
run = flask.Flask.__dict__["run"]
NOT_APP = [j for j in JUNK if j is not app]   # Flask.run(app) would serve
for j in NOT_APP:
    attempt("Flask.run(%r)" % type(j), run, j)
    attempt("Flask.run(app, port=%r)" % type(j), run, app, port="notaport",
            debug=j, use_reloader=j, use_debugger=j)
attempt("Flask.run()", run)
attempt("Flask.run(app, 1..6)", run, app, 1, 2, 3, 4, 5, 6)

# run_simple: never far enough to serve
rs = werkzeug.serving.run_simple
for j in JUNK:
    attempt("run_simple(%r)" % type(j), rs, j)
    attempt("run_simple(h, %r, app)" % type(j), rs, "127.0.0.1", "notaport", app,
            use_debugger=j, use_reloader=j, use_evalex=j, threaded=j)
attempt("run_simple()", rs)
attempt("run_simple(kw)", rs, hostname="127.0.0.1", port="x")
attempt("run_simple(too many)", rs, *range(20))

# DebuggedApplication.__call__
dbg = werkzeug.debug.DebuggedApplication(app.wsgi_app, evalex=True)
dcall = werkzeug.debug.DebuggedApplication.__dict__["__call__"]
for j in JUNK:
    attempt("DebuggedApplication(%r)" % type(j), dcall, j)
    attempt("dbg(%r, sr)" % type(j), dbg, j, sr)
for e in environs():
    attempt("dbg(environ)", lambda: b"".join(dbg(dict(e), sr)))
attempt("dbg kw", lambda: dbg(environ={}, start_response=sr))
dbg.app = None
attempt("dbg with app None", lambda: dbg(EnvironBuilder(path="/").get_environ(), sr))

c = app.test_client()
assert c.get("/").status_code == 200
e = EnvironBuilder(path="/", method="POST").get_environ()
e.pop("CONTENT_LENGTH", None)
e["HTTP_TRANSFER_ENCODING"] = "chunked"
e["wsgi.input"] = io.BytesIO(b"x" * 100)
b"".join(app(e, sr))

# the finder, the app state, status()
finder = __import__("flaskshield").__spec__.loader
assert type(finder).__name__ == "Finder", finder
for j in JUNK:
    attempt("find_spec(%r)" % type(j), finder.find_spec, j)
    attempt("find_spec(%r, %r, %r)" % ((type(j),) * 3), finder.find_spec, j, j, j)
attempt("find_spec()", finder.find_spec)
attempt("find_spec(big)", finder.find_spec, "flask." + "x" * 100000, None)
attempt("find_spec(kw)", finder.find_spec, fullname="flask.nosuch", path=None)
state = app.__dict__["_flaskshield"]
for name in ("x", "\udc80", "__dict__", "s", "name"):
    attempt("state.%r" % name, getattr, state, name)
attempt("setattr(state)", setattr, state, "x", 1)
for j in JUNK:
    attempt("status(%r)" % type(j), flaskshield.status, j)
status = flaskshield.status()
assert status["activated"] is True, status

# reference counts over many requests
def run(n):
    for i in range(n):
        r = c.get("/")
        assert r.status_code == 200
        r = c.post("/", data=b"y" * 100, headers={"Content-Type": "text/plain"})
        assert r.status_code == 200
    gc.collect()

failures_before = len(failures)
run(200)
refs0 = (sys.getrefcount(app), sys.getrefcount(app.config), sys.getrefcount(state),
         sys.getrefcount(call))
objs0 = len(gc.get_objects())
run(2000)
refs1 = (sys.getrefcount(app), sys.getrefcount(app.config), sys.getrefcount(state),
         sys.getrefcount(call))
objs1 = len(gc.get_objects())
print("calls", calls[0])
print("refs", refs0, refs1)
print("objects", objs0, objs1)
print("failures", len(failures))
for f in failures[:20]:
    print("FAIL", f)
'''


def test_library_objects_survive_misuse_and_hold_no_references(stack, tmp_path):
    cp = harness.run_python(stack, ["-c", textwrap.dedent(SCRIPT)], timeout=300)
    text = cp.stderr
    for word in ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:"):
        assert word not in text, text[-3000:]
    assert cp.returncode == 0, (cp.stdout[-2000:], cp.stderr[-3000:])
    out = dict(line.split(" ", 1) for line in cp.stdout.splitlines() if " " in line)
    assert int(out["calls"]) > 500, cp.stdout
    assert out["failures"] == "0", cp.stdout
    refs0, refs1 = out["refs"].split(") (")
    assert refs0 + ")" == "(" + refs1, cp.stdout        # not one more reference
    objs0, objs1 = map(int, out["objects"].split())
    # 2,000 requests more: the live objects may differ by a handful (caches
    # of the test client), not by a per-request leak (>= 2,000).
    assert objs1 - objs0 < 200, cp.stdout
    assert harness.find_events(cp.events, "activate"), cp.stderr


# Every library type, reached from Python, and every way Python has to make
# an instance of it: calling the type, object.__new__, copy, and a __new__
# of its own (which 3.8 and 3.9 let any code set on a heap type).  Runs on
# every interpreter of the image (test_interpreters.py imports it).
TYPES_SCRIPT = r'''
import copy, io, sys
import flask
from werkzeug.test import EnvironBuilder

app = flask.Flask("types")
app.config["SECRET_KEY"] = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"
seen = {}

@app.route("/", methods=["POST"])
def index():
    seen["input"] = flask.request.environ["wsgi.input"]
    return "ok"

e = EnvironBuilder(path="/", method="POST").get_environ()
e.pop("CONTENT_LENGTH", None)
e["HTTP_TRANSFER_ENCODING"] = "chunked"
e["wsgi.input"] = io.BytesIO(b"x" * 10)
b"".join(app(e, lambda status, headers, exc_info=None: None))

objs = {
    "Patch": flask.Flask.__dict__["wsgi_app"],
    "Finder": __import__("flaskshield").__spec__.loader,
    "Loader": __import__("flaskshield").__spec__.loader.find_spec(
        "flask.app", flask.__path__).loader,
    "AppState": app.__dict__["_flaskshield"],
    "Input": seen["input"],
    "Limit": flask.Request.__dict__["max_content_length"],
}

def exercise(o):
    """What an instance with NULL fields would crash on."""
    for f in (lambda: o(), lambda: o(1, 2, 3), lambda: o.x, lambda: o.read(),
              lambda: o.find_spec("flask.app", None), lambda: o.exec_module(sys),
              lambda: o.__get__(app, type(app)), lambda: list(o)):
        try:
            f()
        except Exception:
            pass

immutable = sys.version_info >= (3, 10)
for name, o in sorted(objs.items()):
    t = type(o)
    assert (t.__module__, t.__name__) == ("flaskshield", name), (name, t)
    made = []
    for how, make in (("call", lambda: t()), ("args", lambda: t(1, x=2)),
                      ("object.__new__", lambda: object.__new__(t)),
                      ("copy", lambda: copy.copy(o))):
        try:
            made.append((how, make()))
        except TypeError:
            pass
    try:
        t.__new__ = staticmethod(lambda cls, *a, **k: object.__new__(cls))
        assert not immutable, "%s: __new__ set on 3.10+" % name
        how = "own __new__"
    except TypeError:
        assert immutable, "%s: immutable before 3.10?" % name
        how = None
    if how is not None:
        try:
            made.append((how, t()))
        except TypeError:
            pass
    for how, m in made:
        exercise(m)
    assert not made, (name, [how for how, m in made])
    print("refused", name)
'''


def test_library_types_cannot_be_made_from_python_in_any_way(stack):
    cp = harness.run_python(stack, ["-c", TYPES_SCRIPT])
    for word in ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:"):
        assert word not in cp.stderr, cp.stderr[-3000:]
    assert cp.returncode == 0, (cp.stdout, cp.stderr[-3000:])
    assert sorted(cp.stdout.split()[1::2]) == [
        "AppState", "Finder", "Input", "Limit", "Loader", "Patch"], cp.stdout


def test_types_come_from_the_interpreter_not_from_sys_meta_path(stack):
    """The library's types belong to the interpreter's state, not to the
    import finder: an app (or a tool) that takes the finder out of
    sys.meta_path once everything is imported still gets its new request
    class capped (before: the Limit type was looked up through
    sys.meta_path, the look-up failed and a 600 kB form passed a 500 kB
    cap)."""
    code = textwrap.dedent('''
        import sys, flask
        app = flask.Flask("x")
        app.config["SECRET_KEY"] = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"

        @app.route("/", methods=["POST"])
        def index():
            return str(len(flask.request.form.get("f", "")))

        c = app.test_client()
        assert c.post("/", data={"f": "x"}).status_code == 200
        sys.meta_path[:] = [f for f in sys.meta_path
                            if type(f).__module__ != "flaskshield"]

        class R(flask.Request):
            max_form_memory_size = 10**9

        app.request_class = R
        r = c.post("/", data={"f": "x" * 600000})
        print(r.status_code, type(R.__dict__["max_form_memory_size"]).__name__)
        ''')
    cp = harness.run_python(stack, ["-c", code])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["413", "Limit"], cp.stdout


def test_sub_interpreters_each_get_their_own_state(stack):
    """Sub-interpreters (as mod_wsgi and uWSGI make them), created and
    destroyed in turn: each has its own types, each app is guarded, and the
    main interpreter's keeps working after they are gone."""
    code = textwrap.dedent('''
        import _xxsubinterpreters as si, flask
        SUB = """
        import flask
        app = flask.Flask("sub")
        app.config["SECRET_KEY"] = "dev"
        app.route("/")(lambda: "ok")
        print("sub", app.test_client().get("/").status_code,
              id(type(flask.Flask.__dict__["wsgi_app"])), flush=True)
        """
        app = flask.Flask("main")
        app.config["SECRET_KEY"] = "dev"
        app.route("/")(lambda: "ok")
        print("main", app.test_client().get("/").status_code,
              id(type(flask.Flask.__dict__["wsgi_app"])), flush=True)
        for n in range(3):
            iid = si.create()
            si.run_string(iid, SUB)
            si.destroy(iid)
        print("main", app.test_client().get("/").status_code,
              id(type(flask.Flask.__dict__["wsgi_app"])), flush=True)
        ''')
    cp = harness.run_python(stack, ["-c", code])
    for word in ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:"):
        assert word not in cp.stderr, cp.stderr[-3000:]
    assert cp.returncode == 0, cp.stderr[-3000:]
    rows = [line.split() for line in cp.stdout.splitlines()]
    assert [r[:2] for r in rows] == [["main", "500"]] + [["sub", "500"]] * 3 + [
        ["main", "500"]], cp.stdout
    assert rows[0][2] == rows[-1][2], rows
    # each sub-interpreter's Patch type is its own (ids may be reused once
    # a destroyed interpreter's memory is freed, but never the main one's)
    assert all(r[2] != rows[0][2] for r in rows[1:4]), rows
    assert len(harness.find_events(cp.events, "secret_key.rejected")) == 4, cp.stderr


def test_finder_passes_on_what_importlib_would(stack, tmp_path):
    """A finder later in sys.meta_path whose find_spec raises: the import
    ends with that exception, and the attribute is read as often as without
    the library (before: the library read it, swallowed a KeyboardInterrupt
    or ValueError, and importlib read it again)."""
    code = textwrap.dedent('''
        import sys
        try:
            import flask    # the library's finder, where flask exists
        except ImportError:
            pass

        class Trap:
            def __init__(self, exc):
                self.exc, self.hits = exc, 0
            @property
            def find_spec(self):
                self.hits += 1
                raise self.exc

        for exc in (KeyboardInterrupt(), ValueError("v"), SystemExit(3)):
            trap = Trap(exc)
            sys.meta_path.append(trap)
            try:
                import _flaskshield_probe
                print("imported")
            except BaseException as e:
                print(type(e).__name__, trap.hits)
            sys.meta_path.remove(trap)
        ''')
    without, with_lib = harness.run_both([stack.python, "-c", code], stack=stack,
                                         env={"PYTHONPATH": stack.env_extra.get("PYTHONPATH")})
    assert with_lib.returncode == without.returncode == 0, with_lib.stderr
    assert with_lib.stdout == without.stdout == (
        b"KeyboardInterrupt 1\nValueError 1\nSystemExit 1\n"), (with_lib.stdout, without.stdout)


def test_flaskshield_module_only_under_its_own_name(stack):
    """`flaskshield` with a NUL byte and more after it is no module (before:
    the built-in module was served under that name)."""
    code = textwrap.dedent('''
        import flask, flaskshield
        for n in ("flaskshield\\x00x", "flaskshield\\x00", "flaskshieldx"):
            try:
                print("imported", repr(__import__(n).__name__))
            except ImportError as e:
                print(type(e).__name__)
        ''')
    cp = harness.run_python(stack, ["-c", code])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["ModuleNotFoundError"] * 3, cp.stdout
