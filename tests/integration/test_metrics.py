"""test_metrics.py -- what the fleet is doing: counters, `flaskshield ps`,
`flaskshield metrics` and the `requests.refused` summary line (issue 16).

One process serves two Flask apps through a dispatcher: "shop" in enforce
mode and "admin" in report mode (an `apps` entry), both capped at 1 KiB.
After N uploads over the cap to each, on every server (gunicorn with 2
workers, uWSGI with 2, waitress) and both stacks:

- `flaskshield ps --json` lists the server's processes (each worker that
  answered among them) and, summed over them, exactly N refused
  (enforced) body_too_large for shop and N would-be (reported) for admin,
  nothing else refused;
- `flaskshield metrics`, parsed by the real Prometheus parser
  (python3-prometheus-client), gives the same N with the labels
  app/reason/enforced, and one flaskshield_process_info per process with
  the digest `flaskshield check` prints;
- the `requests.refused` lines of the log add up to N for each app (the
  rest of a minute's counts are written when the process exits);
- a worker killed with SIGKILL disappears from `ps`, and its file from
  the runtime folder.

Also: a process that never imports Flask writes nothing; a fork()ed child
gets its own record, its parent's counts are not its own; a runtime
folder that cannot be made is said once and the app keeps running; the
refused key and the dev server are counted.
"""

import json
import os
import signal
import time

import pytest

import harness

APP = """
import os
import secrets
import flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

shop = flask.Flask("shop")
shop.secret_key = secrets.token_hex(32)
admin = flask.Flask("admin")
admin.secret_key = secrets.token_hex(32)


@shop.route("/pid")
def pid():
    return str(os.getpid())


@shop.route("/upload", methods=["POST"])
@admin.route("/upload", methods=["POST"])
def upload():
    return "got %d" % len(flask.request.get_data())


app = DispatcherMiddleware(shop, {"/admin": admin})
"""

POLICY = """
version = 1;
runtime_dir = "%(run)s";
body = { max_content_length = 1024; };
apps = ( { match = "admin"; mode = "report"; } );
"""

SERVERS = {
    # id: (kind, workers)
    "gunicorn": ("gunicorn", 2),
    "uwsgi": ("uwsgi", 2),
    "waitress": ("waitress", 1),
}
N = 5


def cmd(*args, check=True):
    cp = harness.run_cmd([harness.command_path()] + list(args), preload=False,
                         text=True)
    if check:
        assert cp.returncode == 0, (args, cp.returncode, cp.stderr)
    return cp


def ps(run):
    return json.loads(cmd("ps", "--json", "--dir", str(run)).stdout)


def totals(procs, app, group, name):
    """{"enforced": n, "reported": m} summed over the processes."""
    out = {"enforced": 0, "reported": 0}
    for p in procs:
        for a in p["apps"]:
            if a["app"] == app:
                for k in out:
                    out[k] += a[group][name][k]
    return out


def metrics(run):
    text = cmd("metrics", "--dir", str(run)).stdout
    return parse_metrics(text)


def parse_metrics(text):
    """{sample name: [samples]} as the Prometheus parser reads the text."""
    from prometheus_client.parser import text_string_to_metric_families
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append(s)
    return out


def sample(samples, name, **labels):
    found = [s.value for s in samples[name]
             if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, samples[name])
    return found[0]


def worker_pids(srv, want):
    pids = set()
    deadline = time.monotonic() + 20
    while len(pids) < want and time.monotonic() < deadline:
        r = srv.get("/pid")
        assert r.status == 200, (r.status, r.text)
        pids.add(int(r.text))
    assert len(pids) == want, pids
    return pids


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_ps_and_metrics_count_refusals(stack, tmp_path, start_server, server):
    kind, workers = SERVERS[server]
    stack.require(kind)
    run = tmp_path / "run"
    policy = harness.write_policy(tmp_path, POLICY % {"run": run})
    app = harness.write_app(tmp_path, APP)
    srv = start_server(kind, stack, app, policy=policy, workers=workers)
    pids = worker_pids(srv, workers)

    for _ in range(N):
        r = srv.post("/upload", data=b"x" * 4096)
        assert r.status == 413, (r.status, r.text)
        r = srv.post("/admin/upload", data=b"x" * 4096)
        assert r.status == 200 and r.text == "got 4096", (r.status, r.text)
    r = srv.post("/upload", data=b"x" * 100)     # within the cap: not counted
    assert r.status == 200, (r.status, r.text)

    procs = ps(run)
    listed = {p["pid"] for p in procs}
    assert pids <= listed, (pids, procs)
    assert all(p["pid"] in srv.pids() for p in procs), (procs, srv.pids())
    assert totals(procs, "shop", "refused", "body_too_large") == {
        "enforced": N, "reported": 0}, procs
    assert totals(procs, "admin", "refused", "body_too_large") == {
        "enforced": 0, "reported": N}, procs
    assert totals(procs, "shop", "refused", "secret_key") == {
        "enforced": 0, "reported": 0}, procs
    modes = {a["app"]: a["mode"] for p in procs for a in p["apps"]}
    assert modes == {"shop": "enforce", "admin": "report"}, procs

    digest = cmd("check", str(policy)).stdout.split("digest ")[1].rstrip(")\n")
    fam = metrics(run)
    refused = "flaskshield_requests_refused"
    assert sample(fam, refused + "_total", app="shop", reason="body_too_large",
                  enforced="true") == N
    assert sample(fam, refused + "_total", app="admin", reason="body_too_large",
                  enforced="false") == N
    assert sample(fam, refused + "_total", app="shop", reason="body_too_large",
                  enforced="false") == 0
    assert sample(fam, refused + "_total", app="admin", reason="body_too_large",
                  enforced="true") == 0
    info = fam["flaskshield_process_info"]
    assert {int(s.labels["pid"]) for s in info} == listed, info
    assert all(s.labels["policy_digest"] == digest and s.labels["mode"] == "enforce"
               and s.labels["python"].startswith("3.") for s in info), info

    # The first refusal of each app in each process is logged at once (the
    # rest of its minute when the minute is over, or at a clean exit).
    counted = {(p["pid"], a["app"]) for p in procs for a in p["apps"]
               if sum(a["refused"]["body_too_large"].values())}
    logged = harness.find_events(srv.log_lines(), "requests.refused")
    assert counted <= {(e["pid"], e["app"]) for e in logged}, (counted, logged)
    for app_name, field in (("shop", "refused"), ("admin", "would_refuse")):
        assert 1 <= sum(e[field] for e in logged if e["app"] == app_name) <= N

    if workers > 1:
        victim = sorted(pids)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while victim in {p["pid"] for p in ps(run)}:
            assert time.monotonic() < deadline, "killed worker still listed"
            time.sleep(0.2)
        assert not (run / ("%d.rec" % victim)).exists()
        # its counts stay in the sum: a counter never goes down
        assert sample(metrics(run), refused + "_total", app="shop",
                      reason="body_too_large", enforced="true") == N

    srv.stop()
    assert ps(run) == []            # the dead are cleaned up
    uid = os.getuid()
    assert [p.name for p in run.glob("*.rec")] == ["retired-%d.rec" % uid], \
        list(run.iterdir())
    # every worker's counts, retired as each ended (killed, or at exit)
    fam = metrics(run)
    assert sample(fam, refused + "_total", app="shop", reason="body_too_large",
                  enforced="true") == N
    assert sample(fam, refused + "_total", app="admin",
                  reason="body_too_large", enforced="false") == N
    assert "flaskshield_process_info" not in fam or \
        not fam["flaskshield_process_info"], fam


def test_summary_lines_and_clean_exit(stack, tmp_path):
    """In one process: the first refusal is logged at once, the next ones
    at exit, each line with the counts since the one before; the record
    file goes at exit."""
    run = tmp_path / "run"
    policy = harness.write_policy(tmp_path, POLICY % {"run": run})
    cp = harness.run_python(stack, ["-c", APP + """
c = shop.test_client()
a = admin.test_client()
for _ in range(3):
    assert c.post("/upload", data=b"x" * 2048).status_code == 413
    assert a.post("/upload", data=b"x" * 2048).status_code == 200
import glob
print(len(glob.glob(%r + "/*.rec")))
""" % str(run)], policy=policy)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["1"], cp.stdout
    lines = cp.events
    shop = harness.find_events(lines, "requests.refused", app="shop")
    admin = harness.find_events(lines, "requests.refused", app="admin")
    assert [(e["refused"], e["would_refuse"]) for e in shop] == [(1, 0), (2, 0)], shop
    assert [(e["refused"], e["would_refuse"]) for e in admin] == [(0, 1), (0, 2)], admin
    assert shop[0]["mode"] == "enforce" and admin[0]["mode"] == "report"
    assert all(e["level"] == "warning" for e in shop + admin)
    # the record went at exit, its counts into the retired ones
    assert [p.name for p in run.iterdir()] == ["retired-%d.rec" % os.getuid()]
    fam = metrics(run)
    assert sample(fam, "flaskshield_requests_refused_total", app="shop",
                  reason="body_too_large", enforced="true") == 3
    assert sample(fam, "flaskshield_requests_refused_total", app="admin",
                  reason="body_too_large", enforced="false") == 3


def test_fork_child_has_its_own_record(stack, tmp_path):
    """A fork()ed worker (as gunicorn --preload makes them) is listed on
    its own with its own counts; the parent's stay the parent's."""
    run = tmp_path / "run"
    policy = harness.write_policy(tmp_path, POLICY % {"run": run})
    cp = harness.run_python(stack, ["-c", APP + """
import subprocess, sys, time
c = shop.test_client()
assert c.post("/upload", data=b"x" * 2048).status_code == 413
r, w = os.pipe()
child = os.fork()
if child == 0:
    for _ in range(2):
        shop.test_client().post("/upload", data=b"x" * 2048)
    os.write(w, b"x")
    time.sleep(30)
    os._exit(0)
os.read(r, 1)
out = subprocess.run([sys.argv[1], "ps", "--json", "--dir", sys.argv[2]],
                     capture_output=True, text=True).stdout
os.kill(child, 9)
os.waitpid(child, 0)
print(out)
""", str(harness.command_path()), str(run)], policy=policy)
    assert cp.returncode == 0, cp.stderr
    procs = {p["pid"]: p for p in json.loads(cp.stdout)}
    assert len(procs) == 2, procs
    counts = sorted(totals([p], "shop", "refused", "body_too_large")["enforced"]
                    for p in procs.values())
    assert counts == [1, 2], procs


def test_nothing_without_flask(stack, tmp_path):
    run = tmp_path / "run"
    policy = harness.write_policy(tmp_path, POLICY % {"run": run})
    cp = harness.run_python(stack, ["-c", "import json, os; print(os.getpid())"],
                            policy=policy)
    assert cp.returncode == 0, cp.stderr
    assert not run.exists()
    assert cp.stderr == ""


def test_runtime_dir_unavailable(stack, tmp_path):
    """A runtime folder that cannot be made: one line says so, the app
    runs and enforces, its counts still reach the summary line."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    policy = harness.write_policy(
        tmp_path, POLICY % {"run": blocker / "run"})
    cp = harness.run_python(stack, ["-c", APP + """
c = shop.test_client()
print(c.post("/upload", data=b"x" * 2048).status_code)
"""], policy=policy)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["413"]
    lines = cp.events
    un = harness.find_events(lines, "runtime.unavailable")
    assert len(un) == 1 and un[0]["runtime_dir"] == str(blocker / "run"), lines
    assert harness.find_events(lines, "requests.refused", app="shop",
                               refused=1), lines


def test_key_and_debug_counted(stack, tmp_path):
    """A refused key (500) is a refusal with reason secret_key; debug
    forced off is a correction; in report mode the would-be refusal is
    counted with enforced=false."""
    run = tmp_path / "run"
    for mode, enforced in (("enforce", "true"), ("report", "false")):
        policy = harness.write_policy(tmp_path, """
            version = 1;
            mode = "%s";
            runtime_dir = "%s";
        """ % (mode, run), name=mode + ".conf")
        cp = harness.run_python(stack, ["-c", """
import flask, subprocess, sys
app = flask.Flask("weak")
app.secret_key = "dev"
app.config["DEBUG"] = True
@app.route("/")
def i():
    return "ok"
c = app.test_client()
print([c.get("/").status_code for _ in range(3)])
print(subprocess.run([sys.argv[1], "metrics", "--dir", sys.argv[2]],
                     capture_output=True, text=True).stdout)
""", str(harness.command_path()), str(run)], policy=policy)
        assert cp.returncode == 0, cp.stderr
        out = cp.stdout
        fam = parse_metrics(out.split("\n", 1)[1])
        assert out.splitlines()[0] == ("[500, 500, 500]" if mode == "enforce"
                                       else "[200, 200, 200]"), out
        assert sample(fam, "flaskshield_requests_refused_total", app="weak",
                      reason="secret_key", enforced=enforced) == 3
        assert sample(fam, "flaskshield_corrections_total", app="weak",
                      kind="debug", enforced=enforced) >= 1


OWN_APP = APP.replace('app = DispatcherMiddleware(shop, {"/admin": admin})', """
own = flask.Flask("own")
own.secret_key = secrets.token_hex(32)
own.config["MAX_CONTENT_LENGTH"] = 100


@own.route("/upload", methods=["POST"])
def own_upload():
    return "got %d" % len(flask.request.get_data())


app = DispatcherMiddleware(shop, {"/admin": admin, "/own": own})
""")


def test_chunked_bodies_and_own_limits(stack, tmp_path, start_server):
    """Chunked bodies over the cap count too: refused in enforce mode,
    would-be in report mode (the body still reaches the app whole); a 413
    under the app's own lower limit is the app's, not counted."""
    run = tmp_path / "run"
    policy = harness.write_policy(tmp_path, POLICY % {"run": run})
    app = harness.write_app(tmp_path, OWN_APP)
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1)
    for _ in range(N):
        r = srv.post("/upload", data=b"x" * 4096, chunked=True)
        assert r.status == 413, (r.status, r.text)
        r = srv.post("/admin/upload", data=b"x" * 4096, chunked=True)
        assert r.status == 200 and r.text == "got 4096", (r.status, r.text)
        r = srv.post("/own/upload", data=b"x" * 500)
        assert r.status == 413, (r.status, r.text)
        r = srv.post("/own/upload", data=b"x" * 500, chunked=True)
        assert r.status == 413, (r.status, r.text)
    r = srv.post("/admin/upload", data=b"x" * 1000, chunked=True)
    assert r.status == 200 and r.text == "got 1000", (r.status, r.text)
    procs = ps(run)
    assert totals(procs, "shop", "refused", "body_too_large") == {
        "enforced": N, "reported": 0}, procs
    assert totals(procs, "admin", "refused", "body_too_large") == {
        "enforced": 0, "reported": N}, procs
    assert totals(procs, "own", "refused", "body_too_large") == {
        "enforced": 0, "reported": 0}, procs


def test_ps_takes_only_what_it_can_vouch_for(stack, tmp_path, start_server):
    """A record kept alive (locked) for a pid no process has, files that
    only look like records, and a record file shrunk to nothing: ps lists
    only the real process, removes nothing but records, and never crashes."""
    import fcntl
    import struct
    run = tmp_path / "run"
    policy = harness.write_policy(tmp_path, POLICY % {"run": run})
    app = harness.write_app(tmp_path, APP)
    srv = start_server("waitress", stack, app, policy=policy, workers=1)
    pid = worker_pids(srv, 1).pop()
    real = (run / ("%d.rec" % pid)).read_bytes()
    ghost_pid = 4194303                     # above any pid_max in use here
    ghost = run / ("%d.rec" % ghost_pid)
    ghost.write_bytes(real[:24] + struct.pack("<q", ghost_pid) + real[32:])
    held = open(ghost, "rb")
    fcntl.flock(held, fcntl.LOCK_SH)         # "alive"
    strangers = ["12.backup.rec", ".5.swp", " 13.rec", "+14.rec", "keep.rec",
                 ".77.notes.tmp"]
    for name in strangers:
        (run / name).write_text("x")
        os.utime(run / name, (time.time() - 300, time.time() - 300))
    empty = run / "1.rec"                   # pid 1 exists, owned by root
    empty.write_bytes(b"")
    try:
        procs = ps(run)
        assert [p["pid"] for p in procs] == [pid], procs
        assert all((run / n).exists() for n in strangers), list(run.iterdir())
        m = cmd("metrics", "--dir", str(run)).stdout
        assert "%d" % ghost_pid not in m, m
    finally:
        held.close()


def test_preload_worker_reload_leaves_the_master_record(stack, tmp_path,
                                                        start_server):
    """gunicorn --preload: the master imported Flask and has a record; a
    worker that reloads a changed policy publishes it in its own record,
    never in the master's it inherited."""
    run = tmp_path / "run"
    text = POLICY % {"run": run} + "reload_interval = 1;\n"
    policy = harness.write_policy(tmp_path, text)
    app = harness.write_app(tmp_path, APP)
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1,
                       extra_args=("--preload",))
    before = {p["pid"]: (p["mode"], p["policy_digest"]) for p in ps(run)}
    assert len(before) == 1, before         # the master; no request yet
    master = next(iter(before))
    tmp = policy.with_name("new.conf")
    tmp.write_text(text.replace("version = 1;", 'version = 1;\nmode = "report";'))
    tmp.chmod(0o644)
    os.replace(tmp, policy)
    time.sleep(2.5)             # the worker's first request reloads
    worker = worker_pids(srv, 1).pop()
    after = {p["pid"]: (p["mode"], p["policy_digest"]) for p in ps(run)}
    assert after[master] == before[master], (before, after)
    assert after[worker][0] == "report", after
    assert after[worker][1] != before[master][1], (before, after)


def test_one_slot_per_name_however_it_is_stored(stack, tmp_path):
    """An import name the record stores changed (cut to its field, a
    control character made '?') finds its slot again: 40 apps of that name
    take one slot, not all 32."""
    run = tmp_path / "run"
    policy = harness.write_policy(tmp_path, POLICY % {"run": run})
    cp = harness.run_python(stack, ["-c", """
import flask, secrets, subprocess, sys
for _ in range(40):
    a = flask.Flask("bad\\nname" + "x" * 130)
    a.secret_key = secrets.token_hex(32)
    a.test_client().get("/")
print(subprocess.run([sys.argv[1], "ps", "--json", "--dir", sys.argv[2]],
                     capture_output=True, text=True).stdout)
""", str(harness.command_path()), str(run)], policy=policy)
    assert cp.returncode == 0, cp.stderr
    procs = json.loads(cp.stdout)
    assert [[a["app"] for a in p["apps"]] for p in procs] == [
        ["bad?name" + "x" * 111]], procs


def test_retired_counters_replace_a_planted_file(stack, tmp_path):
    """A file another user left under this user's retired name (the folder
    is 1777) is neither written nor read: it is replaced by one of this
    user's, and the counts are right."""
    run = tmp_path / "run"
    run.mkdir(mode=0o1777)
    run.chmod(0o1777)
    mine = run / ("retired-%d.rec" % os.getuid())
    mine.write_bytes(b"\0" * 8808)
    os.chown(mine, 65534, 65534)        # nobody's
    held = open(mine, "rb")             # its owner keeps it open
    policy = harness.write_policy(tmp_path, POLICY % {"run": run})
    cp = harness.run_python(stack, ["-c", APP + """
c = shop.test_client()
for _ in range(2):
    assert c.post("/upload", data=b"x" * 2048).status_code == 413
"""], policy=policy)
    assert cp.returncode == 0, cp.stderr
    st = mine.stat()
    assert (st.st_uid, st.st_nlink) == (os.getuid(), 1)
    # the planted file was never written (nor given to this user): its
    # owner, who holds it open, cannot change these counts through it
    with held:
        assert held.read() == b"\0" * 8808
        assert os.fstat(held.fileno()).st_uid == 65534
    assert sample(metrics(run), "flaskshield_requests_refused_total",
                  app="shop", reason="body_too_large", enforced="true") == 2


def test_a_held_lock_never_blocks_an_exit_or_a_scan(stack, tmp_path):
    """Any user can open a retired file (0644) and hold a lock on it: a
    process's exit and a scan wait for it at most a moment, and no count
    is lost -- the record the exit could not retire stays, counted as dead
    until a scan can retire it."""
    import fcntl
    run = tmp_path / "run"
    policy = harness.write_policy(tmp_path, POLICY % {"run": run})
    code = APP + """
c = shop.test_client()
for _ in range(2):
    assert c.post("/upload", data=b"x" * 2048).status_code == 413
"""
    assert harness.run_python(stack, ["-c", code], policy=policy).returncode == 0
    retired = run / ("retired-%d.rec" % os.getuid())
    with open(retired, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        start = time.monotonic()
        cp = harness.run_python(stack, ["-c", code], policy=policy, timeout=20)
        assert cp.returncode == 0, cp.stderr
        m = cmd("metrics", "--dir", str(run))
        assert time.monotonic() - start < 10
        assert sample(parse_metrics(m.stdout),
                      "flaskshield_requests_refused_total", app="shop",
                      reason="body_too_large", enforced="true") == 4
    assert sample(metrics(run), "flaskshield_requests_refused_total",
                  app="shop", reason="body_too_large", enforced="true") == 4
    assert [p.name for p in run.iterdir()] == [retired.name]
