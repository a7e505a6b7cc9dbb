"""test_secret_key.py -- issue 5 end to end: a real SECRET_KEY, or no service.

Every test starts a real server (gunicorn, or ``python app.py`` -- kind
"script", i.e. Flask.run and Werkzeug's server) on both stacks with the
library preloaded, talks HTTP to it and reads what the library logged.

Apps are written per test; the key is put into the source as a Python literal
(``repr``), so str and bytes keys are exercised as such.  The view appends its
pid to a marker file: a refused app must never create it.

Refusal contract checked for every weak key (``check_refused``): every
request gets status 500 and exactly the generic Werkzeug "Internal Server
Error" page, the view never runs, and each worker process logs exactly one
``secret_key.rejected`` line (the right key/reason/action, enforced, the app's
import name) however many requests it answered.

The C unit tests of the weak-key rules are tests/unit/test_secret.c; these
tests only check that the rules reach real apps.

Gunicorn with on_violation = "exit" (test_exit_gunicorn): the library calls
_exit(78) in the worker at its first request.  Gunicorn 20.1's arbiter does
not log a worker's non-zero exit status (only exit statuses 3 and 4 are
special and deaths by signal are logged), so the observable behaviour is: the
request's connection is closed without any response, the worker's pid is gone
(and it never went through gunicorn's own "Worker exiting" path), the arbiter
stays up and boots a replacement worker, which dies the same way at its own
first request.  The status 78 itself is checked under "script".
"""

import collections
import http.client
import json
import os
import re
import secrets
import socket
import textwrap
import time

import pytest
from werkzeug.exceptions import InternalServerError

import harness
from harness import write_app, write_file, write_policy

# The generic page Flask/Werkzeug give for an unhandled error (no detail).
GENERIC_500 = InternalServerError().get_body().encode()

MIN_LENGTH = 24         # the policy's default secret_key.min_length
REQUESTS = 6            # requests per refused server: one log line per worker

MISSING = object()      # no SECRET_KEY set at all
WEAK_LIST = object()    # a key found only in the secret_key.weak_list file

QUICKSTART_KEY = b'_5#y2L"F4Q8z\n\xec]/'

PUBLISHED = [
    ("dev", "dev"),
    ("quickstart-bytes", QUICKSTART_KEY),
    ("config-docs-hex64",
     "192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf"),
    ("config-docs-hex32", "5f352379324c22463451387a0aec5d2f"),
    ("test-key", "test key"),
    ("secret", "secret"),
    ("changeme", "changeme"),
    ("change-me", "change-me"),
    ("secret-key", "secret-key"),
    ("your-secret-key", "your-secret-key"),
    ("super-secret-key", "super secret key"),
    ("you-will-never-guess", "you-will-never-guess"),
    ("hard-to-guess-string", "hard to guess string"),
    ("development-key", "development key"),
    # The issue: "str and bytes forms both".
    ("dev-bytes", b"dev"),
    ("quickstart-str", QUICKSTART_KEY.decode("latin-1")),
    # Flask 3.1 sessions sign with a bytearray too (issue 13).
    ("dev-bytearray", bytearray(b"dev")),
]

# (id, key, reason in the log line)
WEAK_CASES = (
    [("no-key", MISSING, "missing"), ("empty", "", "missing")]
    + [(i, k, "known value") for i, k in PUBLISHED]
    + [("weak-list-file", WEAK_LIST, "known value"),
       # 12 distinct characters, no pattern: only its length is wrong.
       ("short", "k9F$wq2Lm8Zr", "too short"),
       ("a*64", "a" * 64, "low variety"),
       ("abcdefgh*8", "abcdefgh" * 8, "low variety"),
       ("0123456789*4", "0123456789" * 4, "low variety")])

SCRIPT_WEAK_IDS = ("no-key", "dev", "quickstart-bytes", "weak-list-file",
                   "short", "abcdefgh*8")

STRONG_FORMS = {
    "token_hex16": lambda: secrets.token_hex(16),
    "token_hex32": lambda: secrets.token_hex(32),
    "token_urlsafe24": lambda: secrets.token_urlsafe(24),
    "urandom24": lambda: os.urandom(24),
    "bytearray24": lambda: bytearray(os.urandom(24)),
}
SCRIPT_STRONG = ("token_hex16", "urandom24")


def _params(cases, ids_for_script=None):
    out = []
    for kind in ("gunicorn", "script"):
        for case_id, key, reason in cases:
            if kind == "script" and ids_for_script is not None \
                    and case_id not in ids_for_script:
                continue
            out.append(pytest.param(kind, key, reason,
                                    id="%s-%s" % (kind, case_id)))
    return out


# --------------------------------------------------------------------------
# Apps and checks.

VIEW = '''
MARKER = {marker!r}


@app.route("/")
def index():
    with open(MARKER, "a") as f:
        f.write("%d\\n" % os.getpid())
    return "view ran in %d" % os.getpid()
'''


def key_app(directory, key, name="app.py", setter=None):
    """An app whose SECRET_KEY is `key` (MISSING: not set); returns
    (app path, marker path)."""
    marker = directory / ("%s.ran" % name)
    if setter is None:
        setter = ("" if key is MISSING
                  else "app.config[\"SECRET_KEY\"] = %r\n" % (key,))
    src = ("import os\nimport flask\n"
           + "\napp = flask.Flask(__name__)\n" + setter
           + VIEW.format(marker=str(marker)))
    return write_app(directory, src, name=name), marker


def weak_list_file(directory, key, lines=5000):
    """A weak-list file: `lines` random keys of assorted lengths, with `key`
    somewhere in the middle."""
    rows = [secrets.token_urlsafe(6 + i % 30) for i in range(lines)]
    rows.insert(lines // 2 + secrets.randbelow(lines // 4), key)
    return write_file(directory, "weak-keys.txt", "\n".join(rows) + "\n")


def worker_pids(srv):
    """The pids that run the app: gunicorn's workers, or the script itself."""
    if srv.kind == "gunicorn":
        return set(srv.pids()) - {srv.process.pid}
    return {srv.process.pid}


def app_name(kind, module="app"):
    return "__main__" if kind == "script" else module


def assert_active(srv, policy=None):
    """The library is loaded in every process that logs, with `policy`."""
    acts = srv.events("activate")
    assert acts, srv.describe()
    for a in acts:
        assert a["policy"] == (str(policy) if policy else None), a
    bad = srv.events("policy.invalid") + (srv.events("policy.default")
                                          if policy else [])
    assert not bad, bad


def ran_count(marker):
    return len(marker.read_text().split()) if marker.exists() else 0


def get_many(srv, path="/", n=REQUESTS):
    """n GET requests; under gunicorn the first ones reach every worker.

    A sync worker that has accepted a connection blocks reading it until
    the request arrives, and the listen queue is FIFO: with one connection
    a worker opened at once, the k-th connection is accepted only after
    the k-1 before it, each by a different (blocked) worker.  So the
    requests are sent last connection first; the rest one after another.
    """
    out = []
    if srv.kind == "gunicorn" and srv.workers > 1:
        conns = [http.client.HTTPConnection("127.0.0.1", srv.port,
                                            timeout=harness.HTTP_TIMEOUT)
                 for _ in range(min(n, srv.workers))]
        try:
            for c in conns:
                c.connect()
            for c in reversed(conns):
                c.request("GET", path)
                r = c.getresponse()
                out.append(harness.Response(r.status, r.headers, r.read()))
        finally:
            for c in conns:
                c.close()
    return out + [srv.get(path) for _ in range(n - len(out))]


def check_refused(srv, marker, reason, app, key="SECRET_KEY", action="refuse",
                  path="/", n=REQUESTS):
    """Every request 500 + generic page, view never ran, one line a worker."""
    responses = get_many(srv, path, n)
    for r in responses:
        assert r.status == 500, (r, srv.describe())
        assert r.body == GENERIC_500, r.body
    workers = worker_pids(srv)
    assert not marker.exists(), "the view ran: %s" % marker.read_text()
    events = srv.events("secret_key.rejected")
    per_pid = collections.Counter(e["pid"] for e in events)
    assert events, srv.describe()
    assert all(c == 1 for c in per_pid.values()), (per_pid, events)
    assert set(per_pid) <= workers, (per_pid, workers)
    if srv.kind == "gunicorn" and n >= srv.workers:
        assert set(per_pid) == workers, (per_pid, workers)   # every worker
    for e in events:
        assert e["level"] == "error", e
        assert e["app"] == app, e
        assert e["mode"] == "enforce", e
        assert e["key"] == key, e
        assert e["reason"] == reason, e
        assert e["action"] == action, e
        assert e["enforced"] is True, e
        assert e["min_length"] == MIN_LENGTH, e
    return events


def check_served(srv, marker, n=REQUESTS, path="/"):
    """Every request 200 from the view, which ran each time; no rejection."""
    pids = set()
    for r in get_many(srv, path, n):
        assert r.status == 200, (r, srv.describe())
        assert r.text.startswith("view ran in "), r.text
        pids.add(int(r.text.rsplit(" ", 1)[1]))
    assert ran_count(marker) == n
    assert pids == worker_pids(srv), (pids, worker_pids(srv))
    assert srv.events("secret_key.rejected") == [], srv.describe()


# --------------------------------------------------------------------------
# Weak keys are refused; strong keys serve.


@pytest.mark.parametrize("kind,key,reason",
                         _params(WEAK_CASES, SCRIPT_WEAK_IDS))
def test_weak_key_refused(stack, kind, key, reason, tmp_path, start_server):
    policy = None
    if key is WEAK_LIST:
        # A key nothing else would flag: only the operator's list knows it.
        key = secrets.token_hex(24)
        wl = weak_list_file(tmp_path, key)
        policy = write_policy(tmp_path, 'secret_key = { weak_list = "%s"; };'
                              % wl)
    app, marker = key_app(tmp_path, key)
    srv = start_server(kind, stack, app, policy=policy)
    check_refused(srv, marker, reason, app_name(kind))
    assert_active(srv, policy)
    if kind == "script":
        # Flask.run judged it before serving; the requests did not log again.
        assert len(srv.events("secret_key.rejected")) == 1
        assert srv.events("dev_server.used"), srv.describe()


@pytest.mark.parametrize("kind,form", [
    pytest.param(kind, form, id="%s-%s" % (kind, form))
    for kind in ("gunicorn", "script") for form in STRONG_FORMS
    if kind == "gunicorn" or form in SCRIPT_STRONG])
def test_strong_key_served(stack, kind, form, tmp_path, start_server):
    key = STRONG_FORMS[form]()
    app, marker = key_app(tmp_path, key)
    srv = start_server(kind, stack, app)
    check_served(srv, marker)
    assert_active(srv)


# --------------------------------------------------------------------------
# SECRET_KEY_FALLBACKS (Flask 3.1 only: the setting does not exist in 2.2).

FALLBACK_CASES = [
    ("known", lambda: [secrets.token_hex(32), "changeme"], "known value"),
    ("low-variety", lambda: ["abcdefgh" * 8], "low variety"),
    # Flask only iterates the setting: a tuple is as good as a list.
    ("known-tuple", lambda: (secrets.token_hex(32), "dev"), "known value"),
    ("strong", lambda: [secrets.token_hex(32), os.urandom(32)], None),
]


@pytest.mark.parametrize("stack", ["pyenv"], indirect=True)
@pytest.mark.parametrize("kind", ["gunicorn", "script"])
@pytest.mark.parametrize("case", [c[0] for c in FALLBACK_CASES])
def test_fallbacks(stack, kind, case, tmp_path, start_server):
    assert stack.flask_major >= 3
    _, make, reason = next(c for c in FALLBACK_CASES if c[0] == case)
    setter = ("app.config[\"SECRET_KEY\"] = %r\n"
              "app.config[\"SECRET_KEY_FALLBACKS\"] = %r\n"
              % (secrets.token_hex(32), make()))
    app, marker = key_app(tmp_path, None, setter=setter)
    srv = start_server(kind, stack, app)
    if reason is None:
        check_served(srv, marker)
    else:
        check_refused(srv, marker, reason, app_name(kind),
                      key="SECRET_KEY_FALLBACKS")
    assert_active(srv)


# --------------------------------------------------------------------------
# A list of keys (itsdangerous key rotation).


@pytest.mark.parametrize("require", [True, False])
def test_a_list_of_keys_is_judged_key_by_key(stack, require, tmp_path,
                                             start_server):
    """Flask 2.2 passes SECRET_KEY to itsdangerous as it is, and
    itsdangerous takes a list of keys (the last signs, any opens).  The
    library took a list for no key at all: "missing", and with
    secret_key.require = false a list ending in "dev" signed and opened
    session cookies.  Each key is judged now."""
    policy = write_policy(tmp_path, "secret_key = { require = %s; };"
                          % ("true" if require else "false"))
    app, marker = key_app(tmp_path, [secrets.token_hex(32), "dev"])
    srv = start_server("gunicorn", stack, app, policy=policy)
    check_refused(srv, marker, "known value", "app")


@pytest.mark.parametrize("stack", ["debian"], indirect=True)
def test_a_list_of_strong_keys_serves(stack, tmp_path, start_server):
    """A rotation of strong keys was refused as "missing".  (Flask 3.1
    adds the key to a list of its own, where a list cannot sign.)"""
    assert stack.flask_major < 3
    app, marker = key_app(tmp_path, [secrets.token_hex(32),
                                     secrets.token_hex(32)])
    srv = start_server("gunicorn", stack, app)
    check_served(srv, marker)


# --------------------------------------------------------------------------
# The key changes after the first request.
#
# A refused app cannot run its own /fix route (the guard answers first), so
# the key is changed by a second app in the same process: the front app
# (strong key) owns /fix and mounts the judged app ("mainapp") at /main.

FIX_APP = '''
import os
import flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

MARKER = {marker!r}

main = flask.Flask("mainapp", root_path=os.path.dirname(__file__))
main.config["SECRET_KEY"] = {before!r}


@main.route("/")
def index():
    with open(MARKER, "a") as f:
        f.write("%d\\n" % os.getpid())
    return "view ran in %d" % os.getpid()


app = flask.Flask(__name__)
app.config["SECRET_KEY"] = {front!r}
app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {{"/main": main}})


@app.route("/fix")
def fix():
    main.config["SECRET_KEY"] = {after!r}
    return "fixed"
'''


@pytest.mark.parametrize("kind", ["gunicorn", "script"])
@pytest.mark.parametrize("direction", ["weak-then-strong", "strong-then-dev"])
def test_key_changed_later(stack, kind, direction, tmp_path, start_server):
    strong = secrets.token_hex(32)
    before, after = (("dev", strong) if direction == "weak-then-strong"
                     else (strong, "dev"))
    marker = tmp_path / "main.ran"
    app = write_app(tmp_path, FIX_APP.format(
        marker=str(marker), before=before, after=after,
        front=secrets.token_hex(32)))
    srv = start_server(kind, stack, app, workers=1)
    if direction == "weak-then-strong":
        check_refused(srv, marker, "known value", "mainapp", path="/main/",
                      n=3)
        assert srv.get("/fix").status == 200
        for _ in range(3):
            r = srv.get("/main/")
            assert r.status == 200, (r, srv.describe())
            assert r.text.startswith("view ran in ")
        assert ran_count(marker) == 3
        assert len(srv.events("secret_key.rejected")) == 1
    else:
        for _ in range(3):
            assert srv.get("/main/").status == 200, srv.describe()
        assert ran_count(marker) == 3
        assert srv.events("secret_key.rejected") == []
        assert srv.get("/fix").status == 200
        for _ in range(3):
            r = srv.get("/main/")
            assert r.status == 500 and r.body == GENERIC_500, r
        assert ran_count(marker) == 3        # the view did not run again
        events = srv.events("secret_key.rejected")
        assert len(events) == 1, events
        e = events[0]
        assert (e["app"], e["reason"], e["action"], e["enforced"]) == (
            "mainapp", "known value", "refuse", True), e
        assert e["pid"] in worker_pids(srv)
    # The front app, with its strong key, was never judged weak.
    assert not srv.events("secret_key.rejected", app=app_name(kind))
    assert_active(srv)


# --------------------------------------------------------------------------
# on_violation, require, mode.


def test_exit_script(stack, tmp_path, start_server):
    """Flask.run judges the key and exits 78 before serving."""
    policy = write_policy(tmp_path, 'secret_key = { on_violation = "exit"; };')
    app, marker = key_app(tmp_path, "dev")
    srv = start_server("script", stack, app, policy=policy, wait=False)
    rc = srv.process.wait(20)
    assert rc == 78, srv.describe()
    events = srv.events("secret_key.rejected")
    assert len(events) == 1, srv.describe()
    e = events[0]
    assert (e["pid"], e["app"], e["reason"], e["action"], e["enforced"]) == (
        srv.process.pid, "__main__", "known value", "exit", True), e
    # Before serving: Werkzeug's server never started, nothing crashed.
    out = srv.stdout_text() + srv.stderr_text()
    assert "Running on" not in out and "Traceback" not in out, out
    assert srv.events("dev_server.used") == []
    assert not marker.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
    assert_active(srv, policy)


def _booted(srv):
    return [int(p) for p in re.findall(r"Booting worker with pid: (\d+)",
                                       srv.stderr_text())]


def _wait(cond, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_exit_gunicorn(stack, tmp_path, start_server):
    """The worker _exit()s at its first request (see the module docstring)."""
    policy = write_policy(tmp_path, 'secret_key = { on_violation = "exit"; };')
    app, marker = key_app(tmp_path, "dev")
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1)
    dead = []
    for round_ in range(2):
        assert _wait(lambda: len(_booted(srv)) == round_ + 1
                     and _booted(srv)[-1] in srv.pids()), srv.describe()
        worker = _booted(srv)[-1]
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            srv.get("/")
        assert _wait(lambda: worker not in srv.pids()), srv.describe()
        events = srv.wait_for_event("secret_key.rejected", pid=worker)
        assert len(events) == 1, srv.describe()
        e = events[0]
        assert (e["app"], e["reason"], e["action"], e["enforced"]) == (
            "app", "known value", "exit", True), e
        # _exit: gunicorn's normal worker shutdown never ran.
        assert "Worker exiting (pid: %d)" % worker not in srv.stderr_text()
        dead.append(worker)
    assert srv.alive(), srv.describe()          # the arbiter stays up
    assert _wait(lambda: len(_booted(srv)) == 3), srv.describe()
    assert len(set(dead)) == 2
    assert not marker.exists()
    assert len(srv.events("secret_key.rejected")) == 2
    assert_active(srv, policy)


def check_served_and_logged(srv, marker, kind, action, enforced):
    """A weak key ("dev") that the policy lets serve: every request reached
    the view, and each worker logged the rejection exactly once."""
    for r in get_many(srv):
        assert r.status == 200 and r.text.startswith("view ran in "), r
    assert ran_count(marker) == REQUESTS
    events = srv.events("secret_key.rejected")
    per_pid = collections.Counter(e["pid"] for e in events)
    assert events and all(c == 1 for c in per_pid.values()), events
    assert set(per_pid) == worker_pids(srv), (per_pid, worker_pids(srv))
    for e in events:
        assert (e["app"], e["reason"], e["action"], e["enforced"]) == (
            app_name(kind), "known value", action, enforced), e
    return events


@pytest.mark.parametrize("kind", ["gunicorn", "script"])
def test_warn_serves(stack, kind, tmp_path, start_server):
    policy = write_policy(tmp_path, 'secret_key = { on_violation = "warn"; };')
    app, marker = key_app(tmp_path, "dev")
    srv = start_server(kind, stack, app, policy=policy)
    check_served_and_logged(srv, marker, kind, "warn", True)
    assert_active(srv, policy)


@pytest.mark.parametrize("kind", ["gunicorn", "script"])
@pytest.mark.parametrize("case", ["no-key", "dev"])
def test_require_false(stack, kind, case, tmp_path, start_server):
    """require = false: a missing key is fine, a set weak key is not."""
    policy = write_policy(tmp_path, 'secret_key = { require = false; };')
    app, marker = key_app(tmp_path, MISSING if case == "no-key" else "dev")
    srv = start_server(kind, stack, app, policy=policy)
    if case == "no-key":
        check_served(srv, marker)
    else:
        check_refused(srv, marker, "known value", app_name(kind))
    assert_active(srv, policy)


@pytest.mark.parametrize("kind", ["gunicorn", "script"])
@pytest.mark.parametrize("action", ["refuse", "exit"])
def test_report_mode(stack, kind, action, tmp_path, start_server):
    """Report mode logs what enforce would do and serves (even "exit")."""
    policy = write_policy(tmp_path, 'mode = "report";\n'
                          'secret_key = { on_violation = "%s"; };' % action)
    app, marker = key_app(tmp_path, "dev")
    srv = start_server(kind, stack, app, policy=policy)
    events = check_served_and_logged(srv, marker, kind, action, False)
    assert all(e["mode"] == "report" for e in events), events
    assert srv.alive()
    assert_active(srv, policy)


# --------------------------------------------------------------------------
# The key never appears in any output.

SECRET_APP = '''
import json
import os
import flask
import flaskshield
from werkzeug.middleware.dispatcher import DispatcherMiddleware

main = flask.Flask("mainapp", root_path=os.path.dirname(__file__))
main.config["SECRET_KEY"] = {key!r}


@main.route("/")
def index():
    return "view ran"


app = flask.Flask(__name__)
app.config["SECRET_KEY"] = {front!r}
app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {{"/main": main}})
print("status at import:", json.dumps(flaskshield.status()), flush=True)


@app.route("/status")
def status():
    return flaskshield.status()
'''

LEAK_KEYS = {
    # low variety ("hunter2" twice, 7 distinct bytes), and shorter than 24
    "hunter2": ("hunter2hunter2", "low variety", ["hunter2"]),
    "published": ("you-will-never-guess", "known value",
                  ["you-will-never", "never-guess"]),
    "quickstart-bytes": (QUICKSTART_KEY, "known value",
                         ['_5#y2L"F4Q8z', "F4Q8z", r"\xec]/"]),
}


def _forms(key, parts):
    """Every text form of `key` that would betray it."""
    forms = {repr(key), json.dumps(key if isinstance(key, str)
                                   else key.decode("latin-1"))[1:-1]}
    if isinstance(key, bytes):
        forms |= {key.decode("latin-1"), key.decode("utf-8", "replace"),
                  repr(key.decode("latin-1")), key.hex()}
    else:
        forms |= {key, key.encode().hex()}
    return forms | set(parts)


@pytest.mark.parametrize("kind", ["gunicorn", "script"])
@pytest.mark.parametrize("which", list(LEAK_KEYS))
def test_key_never_printed(stack, kind, which, tmp_path, start_server):
    key, reason, parts = LEAK_KEYS[which]
    app = write_app(tmp_path, SECRET_APP.format(key=key,
                                                front=secrets.token_hex(32)))
    srv = start_server(kind, stack, app, workers=1)
    bodies = []
    for path in ("/main/", "/main/", "/status", "/main/nope", "/status"):
        r = srv.get(path)
        bodies.append(r.body)
        if path.startswith("/main"):
            assert r.status == 500 and r.body == GENERIC_500, r
        else:
            assert r.status == 200, (r, srv.describe())
    status = json.loads(bodies[-1])
    assert status["activated"] is True and status["pid"] in worker_pids(srv)
    events = srv.events("secret_key.rejected")
    assert len(events) == 1 and events[0]["reason"] == reason, events
    srv.stop()
    texts = [srv.stderr_text(), srv.stdout_text()] + [
        b.decode("latin-1") for b in bodies] + [
        b.decode("utf-8", "replace") for b in bodies]
    assert "status at import:" in srv.stdout_text()
    raw = (srv.stderr_path.read_bytes() + srv.stdout_path.read_bytes()
           + b"".join(bodies))
    if isinstance(key, bytes):
        assert key not in raw
    else:
        assert key.encode() not in raw
    for form in _forms(key, parts):
        for t in texts:
            assert form not in t, (form, t[-2000:])


# --------------------------------------------------------------------------
# Keys set after the app is created: judged on the key they serve with.

LOADER_SRC = {
    "from_object": '''
        class Config:
            SECRET_KEY = {key!r}
        app.config.from_object(Config)
        ''',
    "from_envvar": '''
        app.config.from_envvar("APP_SETTINGS")
        ''',
    "from_prefixed_env": '''
        app.config.from_prefixed_env()
        ''',
}


def _env_safe_key():
    """token_hex(32) that from_prefixed_env keeps a str (json.loads fails)."""
    while True:
        key = secrets.token_hex(32)
        try:
            json.loads(key)
        except ValueError:
            return key


@pytest.mark.parametrize("kind,loader", [
    ("gunicorn", "from_object"), ("gunicorn", "from_envvar"),
    ("gunicorn", "from_prefixed_env"), ("gunicorn", "factory"),
    ("script", "from_envvar"), ("script", "from_prefixed_env")])
@pytest.mark.parametrize("strength", ["strong", "dev"])
def test_key_loaded_later(stack, kind, loader, strength, tmp_path,
                          start_server):
    key = _env_safe_key() if strength == "strong" else "dev"
    env = {}
    callable_ = "app"
    if loader == "factory":
        marker = tmp_path / "app.py.ran"
        src = '''
            import os
            import flask

            MARKER = {marker!r}

            def create_app():
                app = flask.Flask(__name__)
                app.config.update(SECRET_KEY={key!r})

                @app.route("/")
                def index():
                    with open(MARKER, "a") as f:
                        f.write("%d\\n" % os.getpid())
                    return "view ran in %d" % os.getpid()
                return app
            '''.format(marker=str(marker), key=key)
        app = write_app(tmp_path, src, run_main=False)
        callable_ = "create_app()"
    else:
        setter = textwrap.dedent(LOADER_SRC[loader]).format(key=key)
        app, marker = key_app(tmp_path, None, setter=setter)
        if loader == "from_envvar":
            cfg = write_file(tmp_path, "settings.cfg", "SECRET_KEY = %r\n" % key)
            env["APP_SETTINGS"] = str(cfg)
        elif loader == "from_prefixed_env":
            env["FLASK_SECRET_KEY"] = key
    srv = start_server(kind, stack, app, env=env, callable=callable_)
    if strength == "strong":
        check_served(srv, marker)
    else:
        check_refused(srv, marker, "known value", app_name(kind))
    assert_active(srv)
