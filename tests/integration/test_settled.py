"""test_settled.py -- a config the guard found conforming is judged again
whenever it can have changed (issue 19).

Once a request finds app.config as the policy wants it, the request guard
and the key check where a session is signed skip their look-ups while the
config is the same dict, of the same class, with the same version tag
(fs_app_config_settle).  Each case here changes a judged setting in a way
that a cache of that kind could miss, after a first request settled the
config or in the middle of a request, and checks that the change is seen:

- a key list (SECRET_KEY_FALLBACKS) changed in place, which leaves the
  dict's version tag as it was (a bytearray key: test_hardening.py);
- the config's class swapped for one that answers the key itself;
- stores that bypass flask.Config (dict.__setitem__) and ordinary ones,
  between requests and in a view before the session is signed;
- app.request_class replaced by one that allows larger forms;
- a weak fallback key dropped: the key alone is judged again.

Run on both stacks (Flask 2.2 and 3.1), in process with the test client,
which calls the app as a server does (app(environ, start_response)).
"""

import textwrap

import harness

STRONG = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"

# An app whose "/" view writes the session (so the key is used to sign)
# and reports what it reads of DEBUG; `prelude` runs after Flask().
APP = '''
import flask
app = flask.Flask("settled")
app.config["SECRET_KEY"] = %(key)s
%(prelude)s

@app.route("/")
def index():
    flask.session["n"] = flask.session.get("n", 0) + 1
    return "debug=%%s" %% flask.current_app.config["DEBUG"]

@app.route("/weaken")
def weaken():
    %(weaken)s
    flask.session["n"] = 1
    return "weakened"

c = app.test_client()
def show(path="/"):
    r = c.get(path)
    print(r.status_code, r.get_data(as_text=True)[:40].split()[0])
'''


def _run(stack, tmp_path, steps, key=repr(STRONG), prelude="",
         weaken="pass"):
    source = APP % {"key": key, "prelude": prelude, "weaken": weaken}
    source += textwrap.dedent(steps)
    cp = harness.run_python(stack, ["-c", source])
    assert cp.returncode == 0, cp.stderr[-3000:]
    return cp.stdout.splitlines(), cp


def test_a_key_list_changed_in_place_is_judged_again(stack, tmp_path):
    out, cp = _run(stack, tmp_path, '''
        show(); show()
        app.config["SECRET_KEY_FALLBACKS"].append("dev")
        show()
    ''', prelude='app.config["SECRET_KEY_FALLBACKS"] = []')
    assert [line.split()[0] for line in out] == ["200", "200", "500"], out
    rejected = harness.find_events(cp.events, "secret_key.rejected")
    assert [e["reason"] for e in rejected] == ["known value"], cp.stderr


def test_a_bytes_key_replaced_by_a_weak_one_between_requests(stack, tmp_path):
    out, cp = _run(stack, tmp_path, '''
        show(); show()
        dict.__setitem__(app.config, "SECRET_KEY", "dev")
        show()
        app.config["SECRET_KEY"] = %r
        show()
    ''' % STRONG.encode(), key=repr(STRONG.encode()))
    assert [line.split()[0] for line in out] == ["200", "200", "500", "200"], out


def test_a_key_weakened_in_a_view_signs_nothing(stack, tmp_path):
    for weaken in ('app.secret_key = "dev"',
                   'dict.__setitem__(app.config, "SECRET_KEY", "changeme")',
                   'app.config.update(SECRET_KEY="secret")'):
        out, cp = _run(stack, tmp_path, '''
            show(); show(); show("/weaken")
        ''', weaken=weaken)
        assert [line.split()[0] for line in out] == ["200", "200", "500"], \
            (weaken, out)
        assert harness.find_events(cp.events, "session.refused"), cp.stderr


def test_a_config_class_swapped_after_settling_is_read_through(stack,
                                                               tmp_path):
    out, cp = _run(stack, tmp_path, '''
        class Answers(flask.Config):
            def __getitem__(self, key):
                return "dev" if key == "SECRET_KEY" else super().__getitem__(key)
        show(); show()
        app.config.__class__ = Answers
        show()
    ''')
    assert [line.split()[0] for line in out] == ["200", "200", "500"], out


def test_debug_set_between_requests_is_forced_off_again(stack, tmp_path):
    out, cp = _run(stack, tmp_path, '''
        show(); show()
        dict.__setitem__(app.config, "DEBUG", True)
        show()
        app.config.update(DEBUG=True)
        show()
    ''')
    assert out == ["200 debug=False"] * 4, out
    forced = harness.find_events(cp.events, "debug.forced_off")
    assert forced and all(e["enforced"] for e in forced), cp.stderr


def test_a_request_class_set_after_settling_is_capped(stack, tmp_path):
    out, cp = _run(stack, tmp_path, '''
        from werkzeug.test import EnvironBuilder
        class Roomy(flask.Request):
            max_form_memory_size = 10 ** 9
        @app.route("/form", methods=["POST"])
        def form():
            return str(len(flask.request.form["f"]))
        def post():
            r = c.post("/form", data={"f": "x" * 600000},
                       content_type="multipart/form-data")
            print(r.status_code)
        show(); show()
        app.request_class = Roomy
        post()
    ''')
    assert out[:2] == ["200 debug=False"] * 2 and out[2] == "413", out


def test_a_weak_fallback_removed_is_accepted_again(stack, tmp_path):
    """A key rotation that ends: the weak old key refused while it is a
    fallback, the same key alone accepted once it is dropped (the verdict
    remembered for the key was the one with the fallback)."""
    out, cp = _run(stack, tmp_path, '''
        show()
        app.config["SECRET_KEY_FALLBACKS"] = []
        show(); show()
    ''', prelude='app.config["SECRET_KEY_FALLBACKS"] = ["oldkey"]')
    assert [line.split()[0] for line in out] == ["500", "200", "200"], out
