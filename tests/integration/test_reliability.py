"""test_reliability.py -- the library under load and under faults (bounded).

Part of `make test`, so every figure is small; `make stress` (tests/stress/)
runs the same checks at full size (STRESS_REQUESTS, default 200000 there).

  load      gunicorn, 4 sync workers, wrk at 64 connections: every request
            answered 2xx, no socket error; a weak-key app under the same load
            answers only 500 and logs secret_key.rejected once per worker.
  faults    kill -9 of a worker in the middle of a request, the policy file
            replaced and then deleted, gunicorn HUP, uWSGI workers respawned
            (kill -9), with reload_interval = 0 (the policy read once): the
            service keeps serving under the policy it started with (the
            body limit stays) wherever the app is loaded before the workers
            fork (gunicorn --preload, uWSGI), and nothing in the logs says
            crash (segfault, Fatal Python error, sanitizer report).  How a
            running process follows a changed file is test_reload.py's.
            Without --preload every gunicorn worker is a process of its own
            that reads the policy when it imports Flask: a worker started
            after the file changed follows the file as it is then.

Environment: RELIABILITY_REQUESTS (default 20000) sizes the load here.
"""

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import harness

STRONG_KEY = "9f2c1e7a4b8d0f36a5e9c2b7d41f8e03c6a9b2d5e8f1a4c7"

APP = '''
import os, time
from flask import Flask, request
app = Flask(__name__)
app.config["SECRET_KEY"] = %r

@app.route("/")
def hello():
    return "Hello, World!"

@app.route("/pid")
def pid():
    return str(os.getpid())

@app.route("/limit")
def limit():
    return "%%d %%s" %% (os.getpid(), app.config["MAX_CONTENT_LENGTH"])

@app.route("/upload", methods=["POST"])
def upload():
    return "got %%d" %% len(request.get_data())

@app.route("/slow")
def slow():
    with open(os.environ["PIDFILE"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(3)
    return "slow done"
'''

# reload_interval = 0: these faults are about what a forked or respawned
# worker inherits; following a changed file is test_reload.py's.
LIMITED_POLICY = """
version = 1;
mode = "enforce";
reload_interval = 0;
body = { max_content_length = 1000; };
"""

LAX_POLICY = """
version = 1;
mode = "enforce";
reload_interval = 0;
body = { max_content_length = 1000000; };
"""

CRASH_RE = re.compile(r"Segmentation fault|Fatal Python error|core dumped|"
                      r"AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|"
                      r"Aborted|SIGSEGV|SIGABRT")


def requests_wanted(default=20000):
    return int(os.environ.get("RELIABILITY_REQUESTS", default))


# --------------------------------------------------------------------------
# wrk

def wrk_once(port, seconds, conns=64, threads=2, path="/"):
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
            "--timeout", "10s", "http://127.0.0.1:%d%s" % (port, path)]
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    out = cp.stdout
    assert cp.returncode == 0, "wrk failed: %s %s" % (out, cp.stderr)
    m = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                    r"timeout (\d+)", out)
    return {"requests": int(m.group(1)), "rps": float(rps.group(1)),
            "non2xx": int(bad.group(1)) if bad else 0,
            "errors": sum(map(int, err.groups())) if err else 0, "out": out}


def load(port, n, conns=64, max_seconds=600):
    """wrk slices until at least n requests were answered; sums the counts."""
    total = {"requests": 0, "non2xx": 0, "errors": 0, "outs": []}
    rate = 1000.0
    deadline = time.monotonic() + max_seconds
    while total["requests"] < n:
        assert time.monotonic() < deadline, "load did not finish: %s" % total
        left = n - total["requests"]
        secs = max(1, min(30, int(round(left / rate + 0.5))))
        r = wrk_once(port, secs, conns)
        rate = max(r["rps"], 100.0)
        for k in ("requests", "non2xx", "errors"):
            total[k] += r[k]
        total["outs"].append(r["out"])
    return total


def no_crash(srv):
    text = srv.stderr_text() + srv.stdout_text()
    m = CRASH_RE.search(text)
    assert m is None, "crash sign %r in the server's logs:\n%s" % (
        m.group(0), text[max(0, m.start() - 2000):m.end() + 2000])


# --------------------------------------------------------------------------
# Load

def check_load_ok(start_server, stack, tmp_path, n):
    app = harness.write_app(tmp_path, APP % STRONG_KEY)
    pol = harness.write_policy(tmp_path, "version = 1;\n")
    srv = start_server("gunicorn", stack, app, policy=pol, workers=4, timeout=30)
    assert srv.get("/").status == 200
    res = load(srv.port, n)
    assert res["requests"] >= n
    assert res["errors"] == 0 and res["non2xx"] == 0, res["outs"]
    assert srv.get("/").text == "Hello, World!"
    ev = srv.events("activate")
    assert len({e["pid"] for e in ev}) >= 4, ev       # every worker under the library
    assert not srv.events("secret_key.rejected")
    assert not srv.events("patch.failed")
    no_crash(srv)
    return res


def check_load_refused(start_server, stack, tmp_path, n):
    app = harness.write_app(tmp_path, APP % "changeme")
    pol = harness.write_policy(tmp_path, "version = 1;\n")
    srv = start_server("gunicorn", stack, app, policy=pol, workers=4, timeout=30)
    r = srv.get("/")
    assert r.status == 500 and b"Hello" not in r.body
    res = load(srv.port, n)
    assert res["errors"] == 0, res["outs"]
    assert res["non2xx"] == res["requests"] >= n, res["outs"]   # only 500s...
    r = srv.get("/pid")
    assert r.status == 500
    workers = set(srv.pids()) - {srv.process.pid}
    ev = srv.events("secret_key.rejected")
    pids = [e["pid"] for e in ev]
    # ...and the violation logged once per worker, not per request
    assert len(pids) == len(set(pids)), "logged more than once in a worker: %s" % ev
    assert 1 <= len(pids) <= 4 and set(pids) <= workers, (pids, workers)
    assert all(e["enforced"] is True and e["action"] == "refuse" for e in ev), ev
    no_crash(srv)
    return res


def test_load_served(start_server, stack, tmp_path, shield):
    check_load_ok(start_server, stack, tmp_path, requests_wanted())


def test_load_refused_app(start_server, stack, tmp_path, shield):
    check_load_refused(start_server, stack, tmp_path, requests_wanted() // 4)


# --------------------------------------------------------------------------
# Faults

def limit_holds(srv, must_see=(), tries=12, seconds=90):
    """The 1000-byte limit of the starting policy, seen from every worker
    that answers (and at least from each pid in `must_see`): over it 413
    without the app, under it 200.  Time-bound, not count-bound: a worker
    still importing Flask (slow under the sanitizer build) accepts nothing
    until it is ready, and a ready sibling answers every request meanwhile;
    short pauses let the kernel hand connections to both."""
    seen = set()
    deadline = time.monotonic() + seconds
    i = 0
    while True:
        pid = int(srv.get("/pid").text)
        seen.add(pid)
        r = srv.post("/upload", b"x" * 5000)
        assert r.status == 413, "limit lost (worker %s?): %s %r; log:\n%s" % (
            pid, r.status, r.body[:200], policy_log(srv))
        r = srv.post("/upload", b"x" * 500)
        assert r.status == 200 and r.text == "got 500", r
        i += 1
        if i >= tries and set(must_see) <= seen:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError("workers %s never answered in %d s (saw %s)"
                                 % (must_see, seconds, seen))
        if i >= tries:
            time.sleep(0.1)


def policy_log(srv):
    return "\n".join(str(e) for e in srv.log_lines()
                     if e["event"] in ("activate", "policy.default", "policy.invalid",
                                       "body.capped"))


def wait_workers(srv, n, exclude=(), timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        w = set(srv.pids()) - {srv.process.pid} - set(exclude)
        if len(w) >= n:
            return w
        time.sleep(0.1)
    raise AssertionError("workers not back: %s" % srv.pids())


def test_gunicorn_faults(start_server, stack, tmp_path, shield):
    """--preload: the master imports the app, reads the policy once, and
    every worker it forks (after kill -9, after HUP) keeps it."""
    pidfile = tmp_path / "slow.pid"
    app = harness.write_app(tmp_path, APP % STRONG_KEY)
    pol = harness.write_policy(tmp_path, LIMITED_POLICY)
    srv = start_server("gunicorn", stack, app, policy=pol, workers=2,
                       env={"PIDFILE": pidfile}, timeout=30,
                       extra_args=["--preload"])
    first = wait_workers(srv, 2)
    limit_holds(srv)

    # The policy file replaced by a laxer one (atomically), then a worker
    # killed with -9 in the middle of a request.
    tmp = harness.write_policy(tmp_path, LAX_POLICY, name="policy.new")
    os.replace(tmp, pol)
    out = {}

    def slow():
        try:
            out["r"] = srv.get("/slow", timeout=20)
        except Exception as e:     # the connection dies with the worker
            out["e"] = e
    t = threading.Thread(target=slow)
    t.start()
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline, "slow request never reached a worker"
        time.sleep(0.05)
    victim = int(pidfile.read_text())
    assert victim in first
    os.kill(victim, signal.SIGKILL)
    t.join(30)
    assert "r" not in out or out["r"].status != 200, out
    assert srv.alive()
    respawned = wait_workers(srv, 2, exclude=[victim]) - first
    assert srv.get("/").text == "Hello, World!"
    seen = limit_holds(srv, must_see=respawned)
    assert victim not in seen

    # Policy deleted, then gunicorn HUP: every worker replaced.
    os.unlink(pol)
    before = wait_workers(srv, 2)
    os.kill(srv.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 20
    while True:
        now = set(srv.pids()) - {srv.process.pid}
        if len(now) == 2 and not (now & before):
            break
        assert time.monotonic() < deadline, "HUP did not replace workers: %s" % now
        time.sleep(0.1)
    assert srv.alive()
    assert srv.get("/").status == 200
    limit_holds(srv, must_see=now)
    assert not srv.events("patch.failed")
    no_crash(srv)


def worker_limits(srv, want, tries=80, timeout=20):
    """pid -> MAX_CONTENT_LENGTH the guard set, until `want` pids answered
    (at least `tries` requests and `timeout` seconds: without --preload a
    worker answers only once it has imported the app, slower under ASan)."""
    seen = {}
    deadline = time.monotonic() + timeout
    n = 0
    while n < tries or time.monotonic() < deadline:
        n += 1
        pid, limit = srv.get("/limit").text.split()
        seen[int(pid)] = int(limit)
        if set(want) <= set(seen):
            return seen
        time.sleep(0.02)
    raise AssertionError("workers %s never answered (saw %s)" % (want, seen))


def test_gunicorn_worker_reads_policy_when_it_starts(start_server, stack,
                                                     tmp_path, shield):
    """Without --preload the policy is read by each worker (the master never
    imports Flask): the surviving worker keeps the limit it started with, a
    worker started after the file was replaced follows the new file."""
    app = harness.write_app(tmp_path, APP % STRONG_KEY)
    pol = harness.write_policy(tmp_path, LIMITED_POLICY)
    srv = start_server("gunicorn", stack, app, policy=pol, workers=2,
                       env={"PIDFILE": tmp_path / "slow.pid"}, timeout=30)
    first = wait_workers(srv, 2)
    assert set(worker_limits(srv, first).values()) == {1000}
    os.replace(harness.write_policy(tmp_path, LAX_POLICY, name="policy.new"),
               pol)
    victim, survivor = sorted(first)
    os.kill(victim, signal.SIGKILL)
    fresh = wait_workers(srv, 2, exclude=[victim]) - first
    limits = worker_limits(srv, fresh | {survivor})
    assert limits[survivor] == 1000, limits
    assert all(limits[p] == 1000000 for p in fresh), limits
    assert srv.alive()
    no_crash(srv)


def test_uwsgi_respawn(start_server, stack, tmp_path, shield):
    stack.require("uwsgi")
    app = harness.write_app(tmp_path, APP % STRONG_KEY)
    pol = harness.write_policy(tmp_path, LIMITED_POLICY)
    srv = start_server("uwsgi", stack, app, policy=pol, workers=2,
                       env={"PIDFILE": tmp_path / "slow.pid"},
                       timeout=30)
    first = wait_workers(srv, 2)
    limit_holds(srv)
    os.replace(harness.write_policy(tmp_path, LAX_POLICY, name="policy.new"), pol)
    cur = set(first)
    for p in list(cur)[:1]:                # one worker killed: respawned
        os.kill(p, signal.SIGKILL)
    fresh = wait_workers(srv, 2, exclude=[p])
    limit_holds(srv, must_see=fresh - first)
    # kill -9 of every current worker; the master respawns them.
    os.unlink(pol)
    cur = wait_workers(srv, 2)
    for p in cur:
        os.kill(p, signal.SIGKILL)
    fresh = wait_workers(srv, 2, exclude=cur)
    deadline = time.monotonic() + 15
    while True:
        try:
            if srv.get("/", timeout=5).status == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.2)
    limit_holds(srv, must_see=fresh)
    assert srv.alive()
    no_crash(srv)
