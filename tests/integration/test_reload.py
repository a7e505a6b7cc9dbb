"""test_reload.py -- a running fleet follows its policy (issue 15).

Each server runs an app that reports, per request, its pid and the
MAX_CONTENT_LENGTH its config holds; the policy (reload_interval = 1) caps
bodies at 1 MiB.  The test changes the
files and polls until every worker it has seen answers with the new cap:

- per server, with the policy mounted as a Kubernetes ConfigMap
  (policy.conf and policy.d/ through the ..data link, updated by an atomic
  swap of that link): a change (down to 64 KiB, then up to 4 MiB: a value
  the library wrote under the old policy gives way to the new one) reaches
  every worker within reload_interval + 1 s (plus a margin for a loaded
  machine) without a restart, and a body over the new cap gets 413; a
  broken update keeps the policy in force (`policy.invalid` with "effect":
  "kept the policy in force"); a drop-in added over the base lowers the
  cap, and removing it restores the base; `policy.reloaded` is logged with
  both digests;
- a plain policy file replaced the way config management does (a new file
  renamed over it): a broken update is kept once per worker and the fix is
  picked up;
- reload_interval = 0 reads the policy once;
- `flaskshield check` prints the digest the library logs.

Servers: gunicorn (sync, --preload, gthread), waitress, uWSGI (master, and
lazy-apps), mod_wsgi (embedded), on both stacks where the server runs.
"""

import os
import time

import pytest

import harness

APP = """
import os
import secrets
import flask

app = flask.Flask("reloadapp")
app.secret_key = secrets.token_hex(32)


@app.route("/limit")
def limit():
    return "%d %s" % (os.getpid(), app.config.get("MAX_CONTENT_LENGTH"))


@app.route("/upload", methods=["POST"])
def upload():
    return "got %d" % len(flask.request.get_data())
"""

POLICY = """
version = 1;
reload_interval = %(interval)d;
body = { max_content_length = %(mcl)d; };
"""

SERVERS = {
    # id: (kind, extra_args, workers)
    "gunicorn": ("gunicorn", (), 2),
    "gunicorn-preload": ("gunicorn", ("--preload",), 2),
    "gunicorn-gthread": ("gunicorn", ("-k", "gthread", "--threads", "4"), 2),
    "waitress": ("waitress", (), 1),
    "uwsgi": ("uwsgi", (), 2),
    "uwsgi-lazy-apps": ("uwsgi", ("--lazy-apps",), 2),
    "mod_wsgi": ("apache", (), 2),
}
MARGIN = 4.0        # seconds beyond reload_interval + 1 on a loaded machine


def write_atomically(path, text):
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text)
    tmp.chmod(0o644)
    os.replace(tmp, path)


def limits_by_pid(srv, rounds=12):
    """{pid: cap} from a few requests (fresh connections reach every worker
    of a pre-fork server sooner or later)."""
    seen = {}
    for _ in range(rounds):
        r = srv.get("/limit")
        assert r.status == 200, (r.status, r.text)
        pid, cap = r.text.split()
        seen[int(pid)] = cap
    return seen


def every_worker(srv, n, timeout=20.0):
    """{pid: cap} once n distinct workers have answered (each has read its
    policy: a worker still booting would read the next version)."""
    deadline = time.monotonic() + timeout
    seen = {}
    while len(seen) < n:
        assert time.monotonic() < deadline, "only %d of %d workers answered" % (
            len(seen), n)
        seen.update(limits_by_pid(srv))
    return seen


def wait_for_cap(srv, cap, deadline, workers=1):
    """Poll until at least `workers` distinct workers have answered `cap`
    and every worker's latest answer is `cap` (a worker that is not asked
    between two updates would otherwise skip one: it then rightly keeps
    its last good policy); returns (seconds it took, {pid: cap})."""
    start = time.monotonic()
    latest = {}
    while time.monotonic() < deadline:
        latest.update(limits_by_pid(srv))
        if (sum(v == str(cap) for v in latest.values()) >= workers
                and all(v == str(cap) for v in latest.values())):
            return time.monotonic() - start, latest
        time.sleep(0.1)
    raise AssertionError("workers still on the old cap after the deadline: %s" % latest)


class ConfigMap:
    """A folder laid out as the kubelet mounts a ConfigMap: policy.conf ->
    ..data/policy.conf, policy.d -> ..data/policy.d, ..data -> a
    timestamped folder; update() writes a new folder and swaps ..data
    atomically, as the kubelet does."""

    def __init__(self, root):
        self.root = root
        root.mkdir(mode=0o755)
        self.n = 0

    def update(self, policy, dropins=None):
        self.n += 1
        d = self.root / ("..2026_12_05_%02d" % self.n)
        (d / "policy.d").mkdir(mode=0o755, parents=True)
        d.chmod(0o755)
        (d / "policy.conf").write_text(policy)
        (d / "policy.conf").chmod(0o644)
        for name, text in (dropins or {}).items():
            (d / "policy.d" / name).write_text(text)
            (d / "policy.d" / name).chmod(0o644)
        link = self.root / "..data_tmp"
        os.symlink(d.name, link)
        os.replace(link, self.root / "..data")
        for name in ("policy.conf", "policy.d"):
            if not (self.root / name).is_symlink():
                os.symlink("..data/" + name, self.root / name)
        return time.monotonic()

    @property
    def path(self):
        return self.root / "policy.conf"


def reached(srv, cap, changed, workers):
    took, last = wait_for_cap(srv, cap, changed + 1 + 1 + MARGIN, workers)
    assert took <= 1 + 1 + MARGIN, (took, last)
    return last


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_every_worker_follows_the_policy(stack, tmp_path, start_server, server):
    """One server, its policy mounted as a ConfigMap, five updates: down,
    up, a broken one (kept), a drop-in over the base, the drop-in gone."""
    kind, extra, workers = SERVERS[server]
    stack.require(kind)
    app = harness.write_app(tmp_path, APP)
    cm = ConfigMap(tmp_path / "configmap")
    cm.update(POLICY % {"interval": 1, "mcl": 1 << 20})
    srv = start_server(kind, stack, app, policy=cm.path, extra_args=extra,
                       workers=workers)
    before = every_worker(srv, workers)
    assert set(before.values()) == {str(1 << 20)}, before

    # Down, then up: a value the library wrote gives way either way; a body
    # between the two caps is refused under the small one only.
    for cap in (64 << 10, 4 << 20):
        reached(srv, cap, cm.update(POLICY % {"interval": 1, "mcl": cap}), workers)
        r = srv.post("/upload", data=b"x" * (100 << 10))
        assert r.status == (413 if cap == 64 << 10 else 200), (cap, r.status, r.text)

    # A broken update: every worker keeps 4 MiB and says so.
    cm.update(POLICY % {"interval": 1, "mcl": 8 << 20} + 'mdoe = "off";\n')
    time.sleep(1 + 1 + 1)
    assert set(limits_by_pid(srv, rounds=20).values()) == {str(4 << 20)}
    kept = srv.wait_for_event("policy.invalid", timeout=5)[0]
    assert kept["effect"] == "kept the policy in force" and "mdoe" in kept["error"], kept

    # A drop-in over the base, then without it.
    reached(srv, 32 << 10, cm.update(POLICY % {"interval": 1, "mcl": 4 << 20}, {
        "50-small.conf": "body = { max_content_length = 32768; };\n"}), workers)
    reached(srv, 4 << 20, cm.update(POLICY % {"interval": 1, "mcl": 4 << 20}),
            workers)

    reloaded = [e for e in srv.log_lines() if e.get("event") == "policy.reloaded"]
    assert reloaded, srv.describe()
    assert all(len(e["policy_digest"]) == 16 and len(e["previous_digest"]) == 16
               and e["policy_digest"] != e["previous_digest"] for e in reloaded)
    assert all(e["policy"] == str(cm.path) for e in reloaded)


def test_broken_update_keeps_the_policy_in_force(stack, tmp_path, start_server):
    app = harness.write_app(tmp_path, APP)
    policy = harness.write_policy(tmp_path, POLICY % {"interval": 1, "mcl": 64 << 10})
    srv = start_server("gunicorn", stack, app, policy=policy, workers=2)
    assert set(every_worker(srv, 2).values()) == {str(64 << 10)}

    # A typo (an unknown setting) in the update, then a bad value.
    write_atomically(policy, POLICY % {"interval": 1, "mcl": 8 << 20}
                     + 'mdoe = "off";\n')
    time.sleep(3)
    assert set(limits_by_pid(srv, rounds=20).values()) == {str(64 << 10)}
    r = srv.post("/upload", data=b"x" * (100 << 10))
    assert r.status == 413, r.status
    invalid = srv.wait_for_event("policy.invalid", timeout=5)[0]
    assert "mdoe" in invalid["error"] and ":5:" in invalid["error"], invalid
    assert invalid["effect"] == "kept the policy in force", invalid
    # Logged once per worker for the same errors, not at every interval.
    time.sleep(2.5)
    limits_by_pid(srv, rounds=20)
    n = len([e for e in srv.log_lines() if e.get("event") == "policy.invalid"])
    assert n == 2, srv.describe()

    # The fix is picked up.
    changed = time.monotonic()
    write_atomically(policy, POLICY % {"interval": 1, "mcl": 8 << 20})
    wait_for_cap(srv, 8 << 20, changed + 2 + MARGIN, 2)


def test_interval_zero_reads_once(stack, tmp_path, start_server):
    app = harness.write_app(tmp_path, APP)
    policy = harness.write_policy(tmp_path, POLICY % {"interval": 0, "mcl": 64 << 10})
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1)
    assert set(limits_by_pid(srv).values()) == {str(64 << 10)}
    write_atomically(policy, POLICY % {"interval": 0, "mcl": 2 << 20})
    time.sleep(3)
    assert set(limits_by_pid(srv).values()) == {str(64 << 10)}
    assert not [e for e in srv.log_lines() if e.get("event") == "policy.reloaded"]


def test_digest_names_the_effective_policy(stack, tmp_path, shield):
    """`flaskshield check` prints the digest the library logs; the same
    effective policy written otherwise has the same digest, another policy
    another one."""
    a = harness.write_policy(tmp_path, POLICY % {"interval": 2, "mcl": 1 << 20},
                             name="a.conf")
    b = harness.write_policy(tmp_path, "# the same, other words\nversion = 1;\n"
                             "body = { max_content_length = 1048576; };\n",
                             name="b.conf")
    c = harness.write_policy(tmp_path, POLICY % {"interval": 2, "mcl": 2 << 20},
                             name="c.conf")
    digests = {}
    for name, path in (("a", a), ("b", b), ("c", c)):
        cp = harness.run_cmd([shield.cmd, "check", path], preload=False, text=True)
        assert cp.returncode == 0, cp.stderr
        digests[name] = cp.stdout.split("digest ")[1].split(")")[0]
        run = harness.run_python(stack, ["-c", "import flask"], policy=path)
        act = [e for e in run.events if e.get("event") == "activate"]
        assert act and act[0]["policy_digest"] == digests[name], (run.stderr, digests)
    assert digests["a"] == digests["b"] != digests["c"], digests


def test_report_then_enforce_in_place(stack, tmp_path, start_server):
    """The staged rollout of the runbook: a policy shipped in report mode
    changes nothing; switched to enforce in place, the running workers
    enforce it; a typo in the enforce update leaves them in report mode
    (never the strict defaults)."""
    app = harness.write_app(tmp_path, APP)
    staged = POLICY % {"interval": 1, "mcl": 64 << 10}
    policy = harness.write_policy(tmp_path, staged + 'mode = "report";\n')
    srv = start_server("gunicorn", stack, app, policy=policy, workers=2)
    every_worker(srv, 2)
    for _ in range(6):
        assert srv.post("/upload", data=b"x" * (100 << 10)).status == 200

    write_atomically(policy, staged + 'mode = "enforec";\n')
    time.sleep(3)
    for _ in range(6):
        assert srv.post("/upload", data=b"x" * (100 << 10)).status == 200

    write_atomically(policy, staged + 'mode = "enforce";\n')
    deadline = time.monotonic() + 2 + MARGIN
    refused = 0
    while refused < 6:
        assert time.monotonic() < deadline, "still not enforced"
        r = srv.post("/upload", data=b"x" * (100 << 10))
        refused = refused + 1 if r.status == 413 else 0
        time.sleep(0.1)


EVIL_APP = """
import secrets
import time
import flask


class Slow(str):
    # Comparing it takes a while and lets other threads run (the GIL is
    # released while it sleeps): a reload may happen meanwhile.
    def __eq__(self, other):
        time.sleep(2)
        return False

    __hash__ = str.__hash__


app = flask.Flask("evilapp")
app.secret_key = secrets.token_hex(32)


@app.route("/set")
def set_():
    app.config["SESSION_COOKIE_SAMESITE"] = Slow("Lax")
    return "set"


@app.route("/pins")
def pins():
    return "%s %s" % (app.config.get("SESSION_COOKIE_SAMESITE"),
                      app.config.get("PREFERRED_URL_SCHEME"))
"""

PINNED = POLICY % {"interval": 1, "mcl": 1 << 20} + """
config = { SESSION_COOKIE_SAMESITE = "Strict"; PREFERRED_URL_SCHEME = "https"; };
"""


@pytest.mark.parametrize("new", ["no-pins", "other-value"])
def test_reload_during_a_pin_comparison(stack, tmp_path, start_server, new):
    """A reload while another thread compares a pinned value (the app's own
    __eq__, which lets threads switch) neither crashes the worker nor
    writes a stale object into the config: the pins are enforced from one
    snapshot of the app's settings."""
    app = harness.write_app(tmp_path, EVIL_APP)
    policy = harness.write_policy(tmp_path, PINNED)
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1,
                       extra_args=("-k", "gthread", "--threads", "4"))
    assert srv.get("/set").status == 200
    time.sleep(1.2)
    out = {}

    def slow():
        out["r"] = srv.get("/pins", timeout=20)
    import threading
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)         # the slow request is inside the comparison
    later = POLICY % {"interval": 1, "mcl": 1 << 20}
    if new == "other-value":
        later += 'config = { SESSION_COOKIE_SAMESITE = "Lax"; PREFERRED_URL_SCHEME = "https"; };\n'
    write_atomically(policy, later)
    time.sleep(1.3)
    r = srv.get("/pins", timeout=20)        # reloads while the other waits
    t.join(30)
    assert "r" in out and out["r"].status == 200, out
    assert r.status == 200, r.text
    assert srv.alive()
    text = srv.stderr_text()
    assert "Segmentation fault" not in text and "Fatal Python error" not in text
    assert "Worker with pid" not in text or "was terminated" not in text, text[-2000:]
    final = srv.get("/pins").text
    assert final.split()[0] in ("Strict", "Lax") and final.split()[1] == "https", final


IN_REQUEST = '''
import os, sys, time, flask

POLICY = sys.argv[1]
REFUSE = ('reload_interval = 1;\\n'
          'apps = ( {{ match = "outer"; secret_key = {{ on_violation = "refuse"; }}; }} );\\n')
outer = flask.Flask("outer")
outer.config["SECRET_KEY"] = "dev"
inner = flask.Flask("inner")
inner.config["SECRET_KEY"] = {key!r}

@inner.route("/")
def index():
    return "inner"

def sign():
    try:
        outer.session_interface.get_signing_serializer(outer).dumps({{"u": "x"}})
        return "signed"
    except RuntimeError:
        return "refused"

@outer.route("/")
def change():
    before = sign()
    new = POLICY + ".new"
    with open(new, "w") as f:
        f.write(REFUSE)
    os.chmod(new, 0o644)
    os.rename(new, POLICY)
    time.sleep(2.2)
    inner.test_client().get("/")        # another app's request reloads
    return "%s %s" % (before, sign())

print("request", outer.test_client().get("/").get_data(as_text=True))
print("after", sign())
'''


def test_a_reload_during_a_request_reaches_its_app(stack, tmp_path):
    """A reload made during a request (by another app's request in the
    same process) puts the new policy in force for the app whose request
    it is too: the session check of that request took the app's settings
    from the request's entry (fs_app_current), still those of the policy
    replaced (on_violation = "warn": "dev" signed), and would have read
    them from freed memory once the old policy was retired."""
    pol = harness.write_policy(tmp_path, '''
        reload_interval = 1;
        apps = ( { match = "outer"; secret_key = { on_violation = "warn"; }; } );
        ''')
    script = harness.write_file(tmp_path, "in_request.py", IN_REQUEST.format(
        key="Zq3v9LkP2xW8mN4rT7yB1cF6hJ0sD5gA"))
    cp = harness.run_python(stack, [str(script), str(pol)], policy=pol)
    assert cp.returncode == 0, cp.stderr[-3000:]
    assert harness.find_events(cp.events, "policy.reloaded"), cp.stderr
    assert cp.stdout.splitlines() == ["request signed refused",
                                      "after refused"], cp.stdout


OWN_LIMIT_APP = APP.replace('app.secret_key = secrets.token_hex(32)',
                            'app.secret_key = secrets.token_hex(32)\n'
                            'app.config["MAX_CONTENT_LENGTH"] = 1000')


def test_the_apps_own_lower_limit_comes_back(stack, tmp_path, start_server):
    """The app's own MAX_CONTENT_LENGTH (1000) is lower than the policy's;
    a policy tightened to 500 caps it; relaxed again, the app's 1000 comes
    back.  The library took the 500 it had written for the app's own and
    put the policy's 16 MiB in its place: a body of 5000 bytes went
    through."""
    policy = tmp_path / "policy.conf"
    write_atomically(policy, POLICY % {"interval": 1, "mcl": 500})
    app = harness.write_app(tmp_path, OWN_LIMIT_APP, run_main=False)
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1)
    wait_for_cap(srv, 500, time.monotonic() + 5)
    assert srv.post("/upload", b"x" * 700).status == 413
    changed = time.monotonic()
    write_atomically(policy, POLICY % {"interval": 1, "mcl": 16 << 20})
    reached(srv, 1000, changed, 1)
    r = srv.post("/upload", b"x" * 700)
    assert r.status == 200 and r.text == "got 700", (r, srv.describe())
    assert srv.post("/upload", b"x" * 5000).status == 413
