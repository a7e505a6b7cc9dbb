"""test_request_limits.py -- a view may lower its request's form limits
(issue 12).

On Flask 2.2 the form limits are plain class attributes of Werkzeug's
Request; the library's capping descriptors made them read-only, so a view
that lowered `request.max_form_memory_size` or `max_form_parts` got
AttributeError (a 500).  Lowering now works on both stacks, and raising is
still capped at the policy's value.
"""

import harness

CODE = '''
import flask
app = flask.Flask("limits")
app.config["SECRET_KEY"] = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"

@app.route("/", methods=["POST"])
def index():
    flask.request.max_form_memory_size = 10
    flask.request.max_form_parts = 5
    return "%s %s %s" % (flask.request.max_form_memory_size,
                         flask.request.max_form_parts,
                         len(flask.request.form.get("f", "")))

@app.route("/raise", methods=["POST"])
def raise_():
    flask.request.max_form_memory_size = 10 ** 12
    return str(flask.request.max_form_memory_size)

c = app.test_client()
print(c.post("/", data={"f": "x" * 100}).status_code)
r = c.post("/", data={"f": "x" * 5})
print(r.status_code, r.get_data(as_text=True))
print(c.post("/raise", data={"f": "x"}).get_data(as_text=True))
'''


def test_view_lowers_and_raises_form_limits(stack):
    cp = harness.run_python(stack, ["-c", CODE])
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert cp.stdout.splitlines() == ["413", "200 10 5 5", "500000"], cp.stdout


STREAM_BY_NAME = '''
import io
import flask
from werkzeug.wrappers import request as wr
app = flask.Flask("limits")
app.config["SECRET_KEY"] = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"
class Name(str):
    def __eq__(self, other):
        return other == "safe_fallback" or str.__eq__(self, other)
    __hash__ = str.__hash__
calls = {
    "positional": lambda env: wr.get_input_stream(env),
    "environ by name": lambda env: wr.get_input_stream(environ=env),
    "all by name": lambda env: wr.get_input_stream(safe_fallback=True,
                                                   environ=env),
    "unpacked": lambda env: wr.get_input_stream(**{"environ": env}),
    # a keyword Python binds by the str subclass's own __eq__
    "str subclass": lambda env: wr.get_input_stream(env, **{Name("x"): True}),
}
def environ(declared):
    env = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(b"x" * 5000)}
    if declared:
        env["CONTENT_LENGTH"] = "5000"
    else:
        env["wsgi.input_terminated"] = True
    return env
with app.app_context():
    for how, call in calls.items():
        for declared in (True, False):
            try:
                print(how, len(call(environ(declared)).read()))
            except Exception as e:
                print(how, type(e).__name__)
    for bad in (lambda: wr.get_input_stream(),
                lambda: wr.get_input_stream(environ(True), environ={}),
                lambda: wr.get_input_stream(environ(True), bogus=1)):
        try:
            bad()
            print("no error")
        except Exception as e:
            print(type(e).__name__)
'''


def test_get_input_stream_by_name(stack, tmp_path):
    """Werkzeug's get_input_stream(environ=...), its arguments by name, is
    capped as the positional call Werkzeug makes is: over the cap, declared
    or not, a 413 (RequestEntityTooLarge); a call it rejects is its
    TypeError."""
    policy = harness.write_policy(
        tmp_path, "body = { max_content_length = 1000; };\n")
    cp = harness.run_python(stack, ["-c", STREAM_BY_NAME], policy=policy)
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert cp.stdout.splitlines() == [
        how + " RequestEntityTooLarge" for how in (
            "positional", "positional", "environ by name", "environ by name",
            "all by name", "all by name", "unpacked", "unpacked",
            "str subclass", "str subclass")] + \
        ["TypeError"] * 3, cp.stdout


FORM_APP = '''
import flask
app = flask.Flask("formlimit")
app.config["SECRET_KEY"] = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"

@app.route("/", methods=["POST"])
def index():
    return str(len(flask.request.form.get("f", "")))
'''


def multipart(field_size):
    boundary = "fsboundary7MA4YWxkTrZu0gW"
    body = ("--%s\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n%s\r\n"
            "--%s--\r\n" % (boundary, "x" * field_size, boundary)).encode()
    return body, {"Content-Type": "multipart/form-data; boundary=" + boundary}


def test_a_form_field_over_the_form_memory_limit_is_a_413(stack, shield,
                                                           tmp_path,
                                                           start_server):
    """A multipart text field over max_form_memory_size (the policy's
    500000) is a 413.  Debian's Werkzeug 2.2.2 raises RequestEntityTooLarge
    there without importing it: the library, which sets the limit, made it
    a NameError and Flask's 500."""
    app = harness.write_app(tmp_path, FORM_APP, run_main=False)
    policy = harness.write_policy(
        tmp_path, (harness.REPO / "etc/policy.conf").read_text())
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1)
    body, headers = multipart(1000)
    r = srv.post("/", body, headers)
    assert r.status == 200 and r.text == "1000", (r, srv.describe())
    body, headers = multipart(600000)
    r = srv.post("/", body, headers)
    assert r.status == 413, (r, r.body[:300], srv.describe())
    assert "NameError" not in srv.stderr_text(), srv.stderr_text()[-2000:]


FLOAT_LIMIT_APP = '''
import flask
app = flask.Flask("floatlimit")
app.config["SECRET_KEY"] = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"
app.config["MAX_CONTENT_LENGTH"] = 5e3      # a float, as TOML gives it

@app.route("/", methods=["POST"])
def index():
    return "%d %r" % (len(flask.request.get_data()),
                      app.config["MAX_CONTENT_LENGTH"])
'''


def test_the_apps_own_limit_as_a_float_stands(stack, shield, tmp_path,
                                               start_server):
    """Werkzeug compares a float MAX_CONTENT_LENGTH as it is; the library
    took it for no limit and put the policy's 16 MiB in its place: a body
    of 20000 bytes, over the app's own 5000, went through."""
    app = harness.write_app(tmp_path, FLOAT_LIMIT_APP, run_main=False)
    srv = start_server("gunicorn", stack, app, workers=1)
    r = srv.post("/", b"x" * 1000)
    assert r.status == 200 and r.text == "1000 5000.0", (r, srv.describe())
    r = srv.post("/", b"x" * 20000)
    assert r.status == 413, (r, srv.describe())


FLOAT_RAISE = '''
import io
import flask
app = flask.Flask("limits")
app.config["SECRET_KEY"] = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"

class BigForms(flask.Request):
    max_form_parts = 1e4                # a float class attribute

@app.before_request
def raise_for_uploads():
    flask.request.max_form_memory_size = 2e6    # per request, as a float

@app.route("/", methods=["POST"])
def index():
    return "%r %r %d" % (flask.request.max_form_memory_size,
                         flask.request.max_form_parts,
                         len(flask.request.form.get("f", "")))

c = app.test_client()
print(c.post("/", data={"f": "x" * 1500000}).status_code)
print(c.post("/", data={"f": "x"}).get_data(as_text=True))
app.request_class = BigForms
parts = dict(("f%d" % i, "x") for i in range(5000))
parts["file"] = (io.BytesIO(b"x"), "a.txt")             # multipart
print(c.post("/", data=parts).status_code)
'''


def test_a_float_limit_is_capped_as_an_int_is(stack):
    """A form limit raised per request, or by a request class, as a float
    (2e6, 1e4) went uncapped: the descriptors capped ints and None only.
    A 1.5 MB field and 5000 parts went through a policy of 500000 and
    1000."""
    cp = harness.run_python(stack, ["-c", FLOAT_RAISE])
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert cp.stdout.splitlines() == ["413", "500000 1000 1", "413"], \
        cp.stdout
