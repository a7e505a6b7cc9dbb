"""test_headers.py -- security headers and HTTPS from the policy (issue 17).

Side by side with the real Flask-Talisman (Debian's python3-flask-talisman
1.0, linked onto the pyenv stack's path): the same app, once with Talisman
in its code and no library, once unchanged under the library with the
policy that says the same, must answer the same requests with the same
security headers, the same session cookie flags and the same redirects
(status and Location), over plain HTTP and HTTPS, on both stacks, through
Flask's test client (HTTPS: base_url https://, and X-Forwarded-Proto
through ProxyFix) and through gunicorn on loopback (HTTPS: X-Forwarded-Proto
from 127.0.0.1, which gunicorn turns into wsgi.url_scheme "https").

Then the deliberate differences (README, "Security headers and HTTPS"):
the app's own stricter X-Frame-Options: DENY is kept (Talisman overwrites
it) unless headers.replace; a bare X-Forwarded-Proto counts as HTTPS only
with https.trust_forwarded_proto (Talisman always trusts it).  And: report
mode adds nothing and logs what it would add once per app and header;
error pages (404, 500, Werkzeug's 413 and the library's own 413) carry the
headers; `flaskshield check` rejects header values with CR/LF, non-ASCII
bytes or a CSP that is not directives, with FILE:LINE.
"""

import collections
import json
import subprocess

import pytest

import harness

REPO = harness.REPO
DEFAULTS = (REPO / "etc" / "policy.conf").read_text()
STRICT = (REPO / "examples" / "policies" / "strict.conf").read_text()

KEY = "Zq3v9LkP2xW8mN4rT7yB1cF6hJ0sD5gA-headers-test-key"

# The app, unchanged in both runs; TALISMAN (JSON kwargs) puts Talisman in
# its code, PROXY_FIX wraps it in ProxyFix(x_proto=1).
APP = '''
import json, os
from flask import Flask, request, session

app = Flask("hdrapp")
app.config["SECRET_KEY"] = %(key)r
app.config["MAX_CONTENT_LENGTH"] = 1000

if os.environ.get("TALISMAN"):
    from flask_talisman import Talisman
    Talisman(app, **json.loads(os.environ["TALISMAN"]))
if os.environ.get("PROXY_FIX") == "1":
    from werkzeug.middleware.proxy_fix import ProxyFix
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)


@app.route("/", methods=["GET", "POST"])
def index():
    return "hello"


@app.route("/login")
def login():
    session["user"] = "alice"
    return "ok"


@app.route("/deny")
def deny():
    return "framed never", 200, {"X-Frame-Options": "DENY"}


@app.route("/boom")
def boom():
    raise RuntimeError("headers-boom")


@app.route("/form", methods=["POST"])
def form():
    return str(len(request.form))


@app.after_request
def after(response):
    if request.path == "/after-boom":
        raise RuntimeError("after-request-boom")
    return response
''' % {"key": KEY}

# Runs the app's test client for a list of (path, scheme) and prints what
# came back as JSON; scheme "https" is base_url https://, "xfp" a plain
# request with X-Forwarded-Proto: https.
CLIENT = '''
import json, sys
sys.path.insert(0, sys.argv[1])
from app import app
c = app.test_client()
out = []
for path, scheme in json.loads(sys.argv[2]):
    kw = {}
    if scheme == "https":
        kw["base_url"] = "https://localhost"
    elif scheme == "xfp":
        kw["headers"] = {"X-Forwarded-Proto": "https"}
    r = c.get(path, **kw)
    out.append([r.status_code, list(r.headers.items())])
print(json.dumps(out))
'''

SECURITY = ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
            "Content-Security-Policy", "Content-Security-Policy-Report-Only",
            "Strict-Transport-Security", "Permissions-Policy",
            "X-XSS-Protection", "Location")

# The configurations compared: (policy text, Talisman's kwargs).
# X-XSS-Protection (Talisman's default, ignored by today's browsers) has no
# setting in the policy: Talisman runs without it.
CUSTOM = '''
headers = {
    frame_options = "DENY";
    referrer_policy = "no-referrer";
    hsts = { max_age = 600; include_subdomains = false; preload = true; };
    csp = "default-src 'self'; img-src *";
    csp_report_only = true;
    csp_report_uri = "/csp-report";
    permissions_policy = "geolocation=(), camera=()";
};
https = { force = true; permanent = true; };
config = { SESSION_COOKIE_SECURE = true; SESSION_COOKIE_SAMESITE = "Strict"; };
'''
CONFIGS = {
    # the library's defaults: what cannot break an app
    "defaults": (DEFAULTS, dict(
        force_https=False, strict_transport_security=False,
        content_security_policy=None, x_xss_protection=False,
        session_cookie_secure=False, session_cookie_samesite=None)),
    # strict.conf: Talisman(app) with its defaults
    "strict": (STRICT, dict(x_xss_protection=False)),
    "custom": (CUSTOM, dict(
        frame_options="DENY", referrer_policy="no-referrer",
        strict_transport_security_max_age=600,
        strict_transport_security_include_subdomains=False,
        strict_transport_security_preload=True,
        content_security_policy="default-src 'self'; img-src *",
        content_security_policy_report_only=True,
        content_security_policy_report_uri="/csp-report",
        permissions_policy="geolocation=(), camera=()",
        force_https_permanent=True, x_xss_protection=False,
        session_cookie_samesite="Strict")),
}

# What both are asked, over HTTP and HTTPS.
REQUESTS = [("/", "http"), ("/", "https"), ("/x/y?a=1&b=%C3%A9", "http"),
            ("/login", "http"), ("/login", "https"), ("/nope", "https"),
            ("/boom", "https"), ("/nope", "http")]


def cookie_flags(values):
    """The attributes of each Set-Cookie, without its value and dates."""
    out = []
    for v in values:
        parts = [p.strip() for p in v.split(";")[1:]]
        flags = sorted(p.lower() if "=" not in p
                       else p.split("=")[0].lower() + "=" + p.split("=", 1)[1]
                       for p in parts
                       if p.split("=")[0].lower() not in ("expires", "max-age"))
        out.append(flags)
    return out


def digest(status, items):
    """status, the security headers (name: [values]) and cookie flags."""
    got = collections.defaultdict(list)
    cookies = []
    for k, v in items:
        for name in SECURITY:
            if k.lower() == name.lower():
                got[name].append(v)
        if k.lower() == "set-cookie":
            cookies.append(v)
    return {"status": status, "headers": dict(got),
            "cookies": cookie_flags(cookies)}


def env_for(stack, tmp_path, talisman=None, proxy_fix=True):
    env = dict(harness.pyenv_package_env(stack, tmp_path, ["flask_talisman"]))
    env["PROXY_FIX"] = "1" if proxy_fix else "0"
    if talisman is not None:
        env["TALISMAN"] = json.dumps(talisman)
    return env


def client_run(stack, tmp_path, requests, policy=None, talisman=None,
               proxy_fix=True):
    """Through the test client: (digests, events).  With talisman: Talisman
    in the app and no library; else the library with `policy`."""
    app = harness.write_app(tmp_path, APP, run_main=False)
    cp = harness.run_python(
        stack, ["-c", CLIENT, str(app.parent), json.dumps(requests)],
        env=env_for(stack, tmp_path, talisman, proxy_fix),
        preload=talisman is None, policy=policy)
    assert cp.returncode == 0, cp.stderr
    out = json.loads(cp.stdout.strip().splitlines()[-1])
    return [digest(s, items) for s, items in out], cp.events


def server_run(start_server, stack, tmp_path, requests, policy=None,
               talisman=None):
    """Through gunicorn on loopback: (digests, server)."""
    app = harness.write_app(tmp_path, APP, run_main=False)
    srv = start_server("gunicorn", stack, app, policy=policy,
                       env=env_for(stack, tmp_path, talisman),
                       preload=talisman is None, workers=1)
    out = []
    for path, scheme in requests:
        hdrs = {"X-Forwarded-Proto": "https"} if scheme != "http" else {}
        r = srv.get(path, headers=hdrs)
        # the two servers listen on different ports
        out.append(digest(r.status, [
            (k, v.replace("127.0.0.1:%d/" % srv.port, "127.0.0.1:PORT/"))
            for k, v in r.headers.items()]))
    return out, srv


def both(a, b):
    return [(req, x, y) for req, x, y in zip(REQUESTS, a, b) if x != y]


def location(d):
    return d["headers"].get("Location", [None])[0]


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_same_as_talisman_test_client(stack, shield, tmp_path, config):
    text, kw = CONFIGS[config]
    policy = harness.write_policy(tmp_path, text)
    reqs = REQUESTS + [("/", "xfp"), ("/login", "xfp")]
    lib, events = client_run(stack, tmp_path, reqs, policy=policy)
    tal, _ = client_run(stack, tmp_path, reqs, talisman=kw)
    assert [(r, x, y) for r, x, y in zip(reqs, lib, tal) if x != y] == []
    assert not harness.find_events(events, "patch.failed")
    # the comparison is about something: the headers are there
    assert lib[0]["headers"]["X-Content-Type-Options"] == ["nosniff"]
    if config == "defaults":
        assert lib[0]["status"] == 200 and lib[2]["status"] == 404
        assert "Strict-Transport-Security" not in lib[1]["headers"]
    else:
        assert lib[1]["headers"]["Strict-Transport-Security"]
        want = 301 if config == "custom" else 302
        assert lib[2]["status"] == want
        assert location(lib[2]) == "https://localhost/x/y?a=1&b=%C3%A9"
        assert "secure" in lib[4]["cookies"][0]
        assert lib[8]["headers"]["Strict-Transport-Security"]    # ProxyFix


@pytest.mark.parametrize("config", ["defaults", "strict", "custom"])
def test_same_as_talisman_gunicorn(stack, shield, tmp_path, start_server,
                                   config):
    text, kw = CONFIGS[config]
    policy = harness.write_policy(tmp_path, text)
    lib, srv = server_run(start_server, stack, tmp_path, REQUESTS,
                          policy=policy)
    tal, _ = server_run(start_server, stack, tmp_path, REQUESTS, talisman=kw)
    assert both(lib, tal) == []
    assert lib[0]["headers"]["X-Frame-Options"]
    if config != "defaults":
        assert location(lib[2]) == "https://127.0.0.1:PORT/x/y?a=1&b=%C3%A9"
        assert lib[1]["headers"]["Strict-Transport-Security"]
    assert srv.events("patch.failed") == []


def test_app_header_kept_where_talisman_overwrites(stack, shield, tmp_path):
    """Deliberate difference: the app's own X-Frame-Options: DENY stands
    (Talisman replaces it with SAMEORIGIN); headers.replace = true makes
    the library do as Talisman does."""
    reqs = [("/deny", "https"), ("/", "https")]
    policy = harness.write_policy(tmp_path, DEFAULTS)
    lib, events = client_run(stack, tmp_path, reqs, policy=policy)
    tal, _ = client_run(stack, tmp_path, reqs,
                        talisman=CONFIGS["defaults"][1])
    assert lib[0]["headers"]["X-Frame-Options"] == ["DENY"]
    assert tal[0]["headers"]["X-Frame-Options"] == ["SAMEORIGIN"]
    assert lib[1]["headers"]["X-Frame-Options"] == ["SAMEORIGIN"]
    added = harness.find_events(events, "header.added")
    assert {e["header"] for e in added} == {
        "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"}
    assert all(e["enforced"] is True and e["replaced"] is False
               for e in added)

    policy = harness.write_policy(
        tmp_path, "headers = { replace = true; };\n", name="replace.conf")
    lib, events = client_run(stack, tmp_path, reqs, policy=policy)
    assert lib == tal
    assert harness.find_events(events, "header.added", replaced=True,
                               header="X-Frame-Options")


def test_forwarded_proto_needs_trust_without_proxy_fix(stack, shield,
                                                       tmp_path):
    """Deliberate difference: a bare X-Forwarded-Proto (no ProxyFix) is
    HTTPS for Talisman, not for the library unless
    https.trust_forwarded_proto = true."""
    reqs = [("/", "xfp")]
    text = STRICT
    policy = harness.write_policy(tmp_path, text)
    lib, _ = client_run(stack, tmp_path, reqs, policy=policy, proxy_fix=False)
    tal, _ = client_run(stack, tmp_path, reqs,
                        talisman=CONFIGS["strict"][1], proxy_fix=False)
    assert tal[0]["status"] == 200 and tal[0]["headers"].get(
        "Strict-Transport-Security")
    assert lib[0]["status"] == 302
    assert location(lib[0]) == "https://localhost/"
    https = "https = { force = true; permanent = false; };"
    assert https in text
    policy = harness.write_policy(
        tmp_path, text.replace(https, "https = { force = true; "
                               "trust_forwarded_proto = true; };"),
        name="trust.conf")
    lib, _ = client_run(stack, tmp_path, reqs, policy=policy, proxy_fix=False)
    assert lib == tal


def test_report_mode_adds_nothing_and_logs_once(stack, shield, tmp_path,
                                                start_server):
    text = STRICT.replace('mode = "enforce";', 'mode = "report";')
    assert 'mode = "report";' in text
    policy = harness.write_policy(tmp_path, text)
    app = harness.write_app(tmp_path, APP, run_main=False)
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1)
    for _ in range(2):
        plain = srv.get("/")
        assert plain.status == 200, plain     # not redirected
        secure = srv.get("/", headers={"X-Forwarded-Proto": "https"})
        for r in (plain, secure):
            assert not [h for h in SECURITY if r.headers.get(h)], r.headers
    added = srv.events("header.added")
    assert sorted(e["header"] for e in added) == sorted([
        "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
        "Content-Security-Policy", "Strict-Transport-Security"])
    assert all(e["enforced"] is False and e["mode"] == "report"
               and e["app"] == "hdrapp" for e in added)
    csp = [e for e in added if e["header"] == "Content-Security-Policy"]
    assert csp[0]["value"] == "default-src 'self'; object-src 'none'"
    redirects = srv.events("https.redirect")
    assert len(redirects) == 1 and redirects[0]["enforced"] is False
    assert redirects[0]["status"] == 302


def test_mode_off_adds_nothing(stack, shield, tmp_path):
    """The same policy in enforce mode redirects; with mode "off" the
    response is the app's own."""
    policy = harness.write_policy(tmp_path, STRICT)
    lib, events = client_run(stack, tmp_path, [("/", "http")], policy=policy)
    assert lib[0]["status"] == 302 and lib[0]["headers"]["X-Frame-Options"]
    policy = harness.write_policy(tmp_path, STRICT.replace(
        'mode = "enforce";', 'mode = "off";'), name="off.conf")
    lib, events = client_run(stack, tmp_path, [("/", "http")], policy=policy)
    assert lib[0] == {"status": 200, "headers": {}, "cookies": []}
    assert not harness.find_events(events, "header.added")


def test_error_pages_carry_the_headers(stack, shield, tmp_path,
                                       start_server):
    """404, 500 (of a view, and of an after-request function that raises),
    Werkzeug's 413 (a form over MAX_CONTENT_LENGTH) and the library's own 413 (a declared body over body.max_content_length,
    answered before Flask) all carry the headers, HSTS on HTTPS."""
    policy = harness.write_policy(tmp_path, '''
headers = { csp = "default-src 'self'"; hsts = { max_age = 86400; }; };
body = { max_content_length = 5000; };
''')
    app = harness.write_app(tmp_path, APP, run_main=False)
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1)
    https = {"X-Forwarded-Proto": "https"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answers = {
        "404": srv.get("/nope", headers=https),
        "500": srv.get("/boom", headers=https),
        # an after-request function that raises: Flask's 500 is sent as
        # its error handler made it, past the after-request functions
        "after-request 500": srv.get("/after-boom", headers=https),
        # chunked: no declared length, so Flask answers (the bounded
        # stream raises 413 inside the app)
        "flask 413": srv.post("/form", b"a=" + b"x" * 2000,
                              headers=dict(form, **https), chunked=True),
        "own 413": srv.post("/", b"x" * 6000, headers=https),
    }
    want = {"X-Frame-Options": "SAMEORIGIN",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "Content-Security-Policy": "default-src 'self'",
            "Strict-Transport-Security": "max-age=86400; includeSubDomains"}
    for what, r in answers.items():
        assert r.status == int(what.split()[-1]), (what, r)
        got = {h: r.headers.get(h) for h in want}
        assert got == want, (what, got)
    assert "headers-boom" not in answers["500"].text
    assert "after-request-boom" not in answers["after-request 500"].text
    # the library's own 413 over plain HTTP: no HSTS
    r = srv.post("/", b"x" * 6000)
    assert r.status == 413 and r.headers.get("X-Frame-Options") == "SAMEORIGIN"
    assert r.headers.get("Strict-Transport-Security") is None


BAD = [
    ('frame_options = "DENY\\r\\nSet-Cookie: x=1";',
     "headers.frame_options: must not contain CR or LF"),
    ('referrer_policy = "caf\u00e9";',
     "headers.referrer_policy: must be ASCII"),
    ('csp = "default-src: \'self\'";',
     "headers.csp: must be CSP directives"),
    ('csp = "default-src \'self\', img-src *";',
     "headers.csp: must not contain ','"),
    ('permissions_policy = "a\\nb";',
     "headers.permissions_policy: must not contain CR or LF"),
    ('csp_report_uri = "/r x";', "headers.csp_report_uri: must be one URI"),
]


@pytest.mark.parametrize("setting,message", BAD)
def test_check_rejects_bad_header_values(shield, tmp_path, setting, message):
    policy = harness.write_policy(
        tmp_path, 'mode = "enforce";\nheaders = {\n    %s\n};\n' % setting)
    cp = subprocess.run([str(shield.cmd), "check", str(policy)],
                        capture_output=True, text=True)
    assert cp.returncode == 1, cp.stdout
    assert "%s:3: %s" % (policy, message) in cp.stderr + cp.stdout, cp.stderr


def test_check_accepts_and_explain_prints(shield, tmp_path):
    policy = harness.write_policy(tmp_path, CUSTOM.replace(
        "config = {", "apps = ( { match = \"x\"; https = { force = false; };"
        " } );\nconfig = {"))
    cp = subprocess.run([str(shield.cmd), "check", str(policy)],
                        capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    cp = subprocess.run([str(shield.cmd), "explain", str(policy), "--app",
                         "x"], capture_output=True, text=True, check=True)
    assert "csp = \"default-src 'self'; img-src *\";" in cp.stdout
    assert "preload = true;" in cp.stdout and "force = false;" in cp.stdout


BY_NAME = '''
import flask
app = flask.Flask("hdrapp")
app.config["SECRET_KEY"] = %(key)r
calls = {
    "bound": lambda r: app.process_response(r),
    "positional": lambda r: flask.Flask.process_response(app, r),
    "response by name": lambda r: app.process_response(response=r),
    "all by name": lambda r: flask.Flask.process_response(response=r,
                                                          self=app),
    "unpacked": lambda r: flask.Flask.process_response(
        *(), **{"self": app, "response": r}),
}
with app.test_request_context("/"):
    for how, call in calls.items():
        r = call(app.response_class("x"))
        print(how, r.headers.get("X-Frame-Options"),
              r.headers.get("X-Content-Type-Options"))
    for bad in (lambda: flask.Flask.process_response(app),
                lambda: flask.Flask.process_response(response=1),
                lambda: app.process_response(app.response_class("x"),
                                             response=1),
                lambda: app.process_response(app.response_class("x"),
                                             bogus=1)):
        try:
            bad()
            print("no error")
        except TypeError:
            print("TypeError")
''' % {"key": KEY}


def test_process_response_by_name(stack, shield, tmp_path):
    """Flask.process_response(self=app, response=r), its arguments by name
    in any order, adds the same headers as Flask's own positional call; a
    call it rejects is its TypeError."""
    policy = harness.write_policy(tmp_path, DEFAULTS)
    cp = harness.run_python(stack, ["-c", BY_NAME], policy=policy)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.splitlines() == [
        how + " SAMEORIGIN nosniff" for how in (
            "bound", "positional", "response by name", "all by name",
            "unpacked")] + ["TypeError"] * 4, cp.stdout
