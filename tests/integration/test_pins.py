"""test_pins.py -- pinned Flask settings (policy `config = { KEY = value; }`).

Issue 7.  Under gunicorn on both stacks, with a copy of
examples/policies/strict.conf: an app that sets the development values of
the pinned keys reads the pinned values inside every request (also after it
changes them again with dict.update); the session cookie it sends carries
the pinned attributes; `config.pinned` is logged once per app and key; an
`apps` entry adds its own pins over the global ones, and mode = "report"
(per app, or for the whole policy) logs the same events with
enforced = false and leaves the values alone.
"""

import collections
import re

import pytest

import harness

REPO = harness.REPO
STRICT = (REPO / "examples" / "policies" / "strict.conf").read_text()

# The keys strict.conf pins, with the values it pins them to.
PINNED = {
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": False,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "TEMPLATES_AUTO_RELOAD": False,
}
# Debug-class keys: debug.force_off (on by default) makes them false before
# any pin is looked at, and logs debug.forced_off instead of config.pinned.
DEBUG_CLASS = {"TESTING", "PROPAGATE_EXCEPTIONS"}
# What the app sets them to.
APP_VALUES = {
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": False,
    "SESSION_COOKIE_SAMESITE": None,
    "TESTING": True,
    "PROPAGATE_EXCEPTIONS": True,
    "TRAP_HTTP_EXCEPTIONS": True,
    "EXPLAIN_TEMPLATE_LOADING": True,
    "TEMPLATES_AUTO_RELOAD": True,
}

# Three Flask apps in one WSGI process (werkzeug's DispatcherMiddleware
# calls each Flask object, so the request guard runs for each): "shop" gets
# the global settings, "internal.admin" an apps entry with pins of its own,
# "legacy" an apps entry with mode = "report".
APP = '''
import os
from flask import Flask, jsonify, session
from werkzeug.middleware.dispatcher import DispatcherMiddleware

KEYS = %(keys)r
DEV = %(dev)r
HERE = os.path.dirname(os.path.abspath(__file__))


def make(name):
    a = Flask(name, root_path=HERE)
    a.config.update(DEV)
    a.config["SECRET_KEY"] = "Zq3v9LkP2xW8mN4rT7yB1cF6hJ0sD5gA-%%s" %% name

    @a.route("/config")
    def config():
        return jsonify({k: a.config.get(k) for k in KEYS + ["SESSION_COOKIE_NAME"]})

    @a.route("/relax")
    def relax():
        # dict.update bypasses any setter: the next request is pinned again
        a.config.update(DEV)
        return jsonify({k: a.config.get(k) for k in KEYS})

    @a.route("/login")
    def login():
        session["user"] = "alice"
        return "ok"

    @a.route("/boom")
    def boom():
        raise RuntimeError("pins-boom")

    return a


shop = make("shop")
admin = make("internal.admin")
legacy = make("legacy")
app = DispatcherMiddleware(shop, {"/admin": admin, "/legacy": legacy})
''' % {"keys": sorted(APP_VALUES), "dev": APP_VALUES}

PER_APP = '''
apps = (
    { match = "internal.*";
      config = { SESSION_COOKIE_SECURE = false; SESSION_COOKIE_NAME = "internal"; }; },
    { match = "legacy"; mode = "report"; }
);
'''


# strict.conf redirects plain HTTP (https.force): the requests say HTTPS
# the way a TLS proxy does, which gunicorn trusts from loopback
# (forwarded_allow_ips) and turns into wsgi.url_scheme "https".
HTTPS = {"X-Forwarded-Proto": "https"}


def get(srv, path):
    return srv.get(path, headers=HTTPS)


def pinned_events(srv):
    return srv.events("config.pinned")


def once_per_app_and_key(events):
    counts = collections.Counter((e["pid"], e["app"], e["key"]) for e in events)
    return [k for k, n in counts.items() if n != 1]


@pytest.fixture
def app_path(tmp_path):
    return harness.write_app(tmp_path, APP, run_main=False)


def test_strict_pins_hold_in_every_request(stack, shield, tmp_path, app_path,
                                           start_server):
    policy = harness.write_policy(tmp_path, STRICT + PER_APP)
    srv = start_server("gunicorn", stack, app_path, policy=policy, workers=1)

    # shop: every pinned key has the pinned value inside the request
    r = get(srv, "/config")
    assert r.status == 200, r.text
    got = r.json()
    for key, want in PINNED.items():
        assert got[key] == want and type(got[key]) is type(want), (key, got[key])
    assert got["SESSION_COOKIE_NAME"] == "session"   # not pinned: Flask's

    # the app sets them back with dict.update; the next request is pinned
    relaxed = get(srv, "/relax").json()
    assert relaxed["TESTING"] is True                # what the app did ...
    again = get(srv, "/config").json()
    assert {k: again[k] for k in PINNED} == PINNED   # ... undone

    # the pins' effect: the session cookie has the pinned attributes
    r = get(srv, "/login")
    assert r.status == 200
    cookie = r.headers.get("Set-Cookie")
    assert cookie.startswith("session=")
    assert "; Secure" in cookie and "; HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # PROPAGATE_EXCEPTIONS / TESTING false: Flask's own generic 500 page
    r = get(srv, "/boom")
    assert r.status == 500
    assert "<title>500 Internal Server Error</title>" in r.text
    assert "pins-boom" not in r.text

    # internal.admin: the global pins, then its own (SECURE false, a name)
    got = get(srv, "/admin/config").json()
    assert got["SESSION_COOKIE_SECURE"] is False
    assert got["SESSION_COOKIE_NAME"] == "internal"
    for key in set(PINNED) - {"SESSION_COOKIE_SECURE"}:
        assert got[key] == PINNED[key], key
    cookie = get(srv, "/admin/login").headers.get("Set-Cookie")
    assert cookie.startswith("internal=") and "; Secure" not in cookie
    assert "; HttpOnly" in cookie and "SameSite=Lax" in cookie

    # legacy (mode = "report"): the app's own values stay
    got = get(srv, "/legacy/config").json()
    for key, value in APP_VALUES.items():
        assert got[key] == value, key
    cookie = get(srv, "/legacy/login").headers.get("Set-Cookie")
    assert "; Secure" not in cookie and "HttpOnly" not in cookie

    for path in ("/config", "/admin/config", "/legacy/config"):
        assert get(srv, path).status == 200

    ev = pinned_events(srv)
    assert once_per_app_and_key(ev) == []
    by_app = collections.defaultdict(dict)
    for e in ev:
        by_app[e["app"]][e["key"]] = e
    # shop: every key the app had changed, enforced (the debug-class ones
    # by debug.force_off)
    assert set(by_app["shop"]) == set(PINNED) - DEBUG_CLASS
    forced = srv.events("debug.forced_off", app="shop", enforced=True)
    assert {e["key"] for e in forced} == DEBUG_CLASS, forced
    for key, e in by_app["shop"].items():
        assert e["value"] == PINNED[key] and e["enforced"] is True
        assert e["mode"] == "enforce" and e["level"] == "info"
    # internal.admin: SECURE pinned to false equals the app's value: no event
    assert set(by_app["internal.admin"]) == set(PINNED) - DEBUG_CLASS \
        - {"SESSION_COOKIE_SECURE"} | {"SESSION_COOKIE_NAME"}
    assert by_app["internal.admin"]["SESSION_COOKIE_NAME"]["value"] == "internal"
    assert all(e["enforced"] is True for e in by_app["internal.admin"].values())
    # legacy: the same events, not enforced
    assert set(by_app["legacy"]) == set(PINNED)
    for key, e in by_app["legacy"].items():
        assert e["enforced"] is False and e["mode"] == "report"
        assert e["value"] == PINNED[key]


def test_report_mode_policy_leaves_pins_alone(stack, shield, tmp_path, app_path,
                                              start_server):
    text = re.sub(r'mode = "enforce";', 'mode = "report";', STRICT)
    assert 'mode = "report";' in text
    policy = harness.write_policy(tmp_path, text)
    srv = start_server("gunicorn", stack, app_path, policy=policy, workers=1)
    for _ in range(2):
        got = get(srv, "/config").json()
        for key, value in APP_VALUES.items():
            assert got[key] == value, key
    cookie = get(srv, "/login").headers.get("Set-Cookie")
    assert "; Secure" not in cookie and "HttpOnly" not in cookie
    ev = [e for e in pinned_events(srv) if e["app"] == "shop"]
    assert {e["key"] for e in ev} == set(PINNED)
    assert all(e["enforced"] is False for e in ev)
    assert once_per_app_and_key(pinned_events(srv)) == []


def test_no_pins_without_config_setting(stack, shield, tmp_path, app_path,
                                        start_server):
    """The shipped default policy pins nothing: the app's values stand
    (but for the debug-class keys, which debug.force_off makes false) and
    no config.pinned is logged."""
    policy = harness.write_policy(tmp_path, (REPO / "etc/policy.conf").read_text())
    srv = start_server("gunicorn", stack, app_path, policy=policy, workers=1)
    got = get(srv, "/config").json()
    for key, value in APP_VALUES.items():
        assert got[key] == (False if key in DEBUG_CLASS else value), key
    assert srv.events("activate")
    assert pinned_events(srv) == []


# A pin of a type Flask does not take broke every response that sets a cookie
# (SESSION_COOKIE_SAMESITE = true: Werkzeug calls .title() on it, a 500), or
# said the opposite of what it meant (SESSION_COOKIE_SECURE = "false", a true
# value), and a misspelt key pinned nothing; `flaskshield check` took all of
# them.  Now each is an error with its file and line, and the library,
# finding the policy invalid, serves with the built-in defaults: the app
# keeps answering, its cookie as it set it.
BAD_PINS = [
    ("SESSION_COOKIE_SAMESITE = true;",
     "config.SESSION_COOKIE_SAMESITE: must be a string, as Flask takes it"),
    ('SESSION_COOKIE_SECURE = "false";',
     "config.SESSION_COOKIE_SECURE: must be true or false, as Flask takes it"),
    ("SESSION_COOKIE_SECURED = true;",
     "config.SESSION_COOKIE_SECURED: is not a Flask setting; did you mean "
     "SESSION_COOKIE_SECURE?"),
]


@pytest.mark.parametrize("pin,message", BAD_PINS)
def test_bad_pin_is_an_error_and_the_app_serves(stack, shield, tmp_path,
                                                app_path, start_server, pin,
                                                message):
    policy = harness.write_policy(tmp_path, 'mode = "enforce";\nconfig = {\n'
                                  '    %s\n};\n' % pin)
    cp = harness.run_cmd([str(shield.cmd), "check", str(policy)],
                         preload=False, text=True)
    assert cp.returncode == 1, cp.stdout
    assert "%s:3: %s" % (policy, message) in cp.stderr, cp.stderr
    srv = start_server("gunicorn", stack, app_path, policy=policy, workers=1)
    r = get(srv, "/login")
    assert r.status == 200, r
    cookie = r.headers.get("Set-Cookie")
    assert cookie and "; Secure" not in cookie, cookie
    invalid = srv.events("policy.invalid")
    assert invalid and all(e["error"] == "%s:3: %s" % (policy, message)
                           for e in invalid), invalid
    assert srv.events("policy.default", reason="policy rejected")
