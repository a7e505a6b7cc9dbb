"""test_known_keys.py -- published keys, however they are written (issue 12).

The published default keys of Flask-based products, and the Flask
documentation's example key with a trailing newline or in upper case,
or in the quotes an environment file leaves around it, used to pass.  Each is now refused as a known value, on both stacks.
"""

import pytest

import harness

KEYS = {
    "superset-fab": "'\\x02\\x01thisismyscretkey\\x01\\x02\\\\e\\\\y\\\\y\\\\h'",
    "superset-change-me": "'CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET'",
    "superset-template": "'thisISaSECRET_1234'",
    "superset-docs": "'YOUR_OWN_RANDOM_GENERATED_SECRET_KEY'",
    "superset-test": "'TEST_NON_DEV_SECRET'",
    "redash": "'c292a0a3aa32397cdb050e233733900f'",
    "airflow": "'temporary_key'",
    "powerdns-admin": "'E951E5A1F4B94151B360F47EDF596DD2'",
    "flask-security-too": "'pf9Wkove4IKEAXvy-cQkeDPhv9Cb3Ag-wyJILbq_dFw'",
    "flask-user": "'This is an INSECURE secret!! DO NOT use this in production!!'",
    "docs-newline": "'192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf\\n'",
    "docs-upper": "'192B9BDD22AB9ED4D12E236C78AFCB9A393EC15F71BBF5DC987D54727823BCBF'",
    "docs-bytes-spaces": "b'  5f352379324c22463451387a0aec5d2f  '",
    # SECRET_KEY="..." in a file docker --env-file reads keeps its quotes
    "env-file-double-quoted": "'\"CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET\"'",
    "env-file-single-quoted": "\"'thisISaSECRET_1234'\\n\"",
}

CODE = '''
import flask
app = flask.Flask("known")
app.config["SECRET_KEY"] = %s

@app.route("/")
def index():
    return "ok"

print(app.test_client().get("/").status_code)
'''


@pytest.mark.parametrize("name", sorted(KEYS))
def test_published_key_refused(stack, name):
    cp = harness.run_python(stack, ["-c", CODE % KEYS[name]])
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert cp.stdout.split() == ["500"], cp.stdout
    rejected = harness.find_events(cp.events, "secret_key.rejected")
    assert [e["reason"] for e in rejected] == ["known value"], cp.stderr
