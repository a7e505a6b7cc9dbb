"""test_policy_dropins.py -- drop-ins beside the policy file, in a real process.

A policy file named by FLASKSHIELD_POLICY (base.conf) and the drop-ins of
its folder base.d/*.conf: on both stacks, the app sees the drop-in's body
limit (MAX_CONTENT_LENGTH inside a request, and a larger body answered 413)
while the base file's other settings stay; without the drop-in it sees the
base's; a group-writable drop-in rejects the whole policy (policy.invalid
naming it, the strict built-in limit applies).
"""

import pytest

import harness

APP = """
import os
import flask
app = flask.Flask("dropins")
app.config["SECRET_KEY"] = os.urandom(32)

@app.route("/", methods=["GET", "POST"])
def index():
    return "mcl=%s" % flask.current_app.config.get("MAX_CONTENT_LENGTH")

c = app.test_client()
print(c.get("/").get_data(as_text=True))
print("post=%d" % c.post("/", data=b"x" * 3000).status_code)
"""

BASE = """\
version = 1;
mode = "enforce";
body = { max_content_length = 5000; max_form_parts = 77; };
"""
DROPIN = """\
# the app image's drop-in
body = { max_content_length = 1000; };
"""


def _run(stack, tmp_path, policy):
    app = harness.write_file(tmp_path, "app.py", APP)
    cp = harness.run_python(stack, [str(app)], policy=policy)
    assert cp.returncode == 0, cp.stderr
    return cp


@pytest.mark.parametrize("case", ["base-only", "with-dropin", "rejected-dropin"])
def test_dropin_overrides_the_base(stack, tmp_path, case):
    policy = harness.write_policy(tmp_path, BASE, name="base.conf")
    if case != "base-only":
        mode = 0o664 if case == "rejected-dropin" else 0o644
        harness.write_policy(tmp_path / "base.d", DROPIN, name="50-app.conf",
                             mode=mode)
        harness.write_policy(tmp_path / "base.d", "bogus = 1;\n",
                             name="README")            # ignored: not *.conf
    cp = _run(stack, tmp_path, policy)
    invalid = [e for e in cp.events if e.get("event") == "policy.invalid"]
    want = {"base-only": 5000, "with-dropin": 1000,
            "rejected-dropin": 16777216}[case]
    assert "mcl=%d" % want in cp.stdout, (cp.stdout, cp.stderr)
    assert ("post=413" if want < 3000 else "post=200") in cp.stdout, cp.stdout
    if case == "rejected-dropin":
        assert len(invalid) == 1, cp.events
        assert "base.d/50-app.conf:0: is writable by group or others" in \
            invalid[0]["error"]
    else:
        assert invalid == [], invalid
