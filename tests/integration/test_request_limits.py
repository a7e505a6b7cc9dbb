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
