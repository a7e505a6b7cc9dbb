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
finder = sys.meta_path[0]
assert type(finder).__name__ == "Finder", sys.meta_path
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
