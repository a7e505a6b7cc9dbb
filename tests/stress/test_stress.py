"""test_stress.py -- the long reliability checks (`make stress`).

  load   gunicorn, 4 sync workers, wrk at 64 connections: STRESS_REQUESTS
         (default 200000) requests, zero socket errors, zero non-2xx; the
         weak-key app under the same load answers only 500s and logs the
         violation once per worker.
  leaks  `python app.py` (Werkzeug's server, one process) under valgrind
         memcheck with PYTHONMALLOC=malloc serving STRESS_LEAK_REQUESTS
         (default 200) requests: no definite leak whose stack includes
         libflaskshield.so.

The bounded versions of the load and fault checks run in `make test`
(tests/integration/test_reliability.py).
"""

import os
import re
import signal
import socket
import subprocess
import time

import harness
from test_reliability import STRONG_KEY, check_load_ok, check_load_refused

N = int(os.environ.get("STRESS_REQUESTS", 200000))
LEAK_N = int(os.environ.get("STRESS_LEAK_REQUESTS", 200))

LEAK_APP = '''
from flask import Flask, request, session
app = Flask(__name__)
app.config["SECRET_KEY"] = %r

@app.route("/")
def hello():
    session["n"] = session.get("n", 0) + 1
    return "Hello"

@app.route("/post", methods=["POST"])
def post():
    return str(len(request.get_json()["x"]))
'''


def test_load_served_full(start_server, stack, tmp_path, shield):
    res = check_load_ok(start_server, stack, tmp_path, N)
    print("%s: %d requests, 0 errors" % (stack.name, res["requests"]))


def test_load_refused_full(start_server, stack, tmp_path, shield):
    res = check_load_refused(start_server, stack, tmp_path, N)
    print("%s: %d requests, all 500" % (stack.name, res["requests"]))


def _wait_port(port, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "app exited early"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("app under valgrind did not answer in %ss" % timeout)


def test_memcheck_no_library_leak(stack, tmp_path, shield):
    app = harness.write_app(tmp_path, LEAK_APP % STRONG_KEY)
    pol = harness.write_policy(tmp_path, "version = 1;\n")
    port = harness.free_port()
    log = tmp_path / "memcheck.log"
    env = harness.child_env(stack, {"PORT": port, "PYTHONMALLOC": "malloc"},
                            True, pol)
    argv = ["valgrind", "--tool=memcheck", "--leak-check=full",
            "--show-leak-kinds=definite", "--num-callers=40",
            "--trace-children=no", "--log-file=%s" % log, stack.python, str(app)]
    p = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                         stderr=open(tmp_path / "stderr.log", "wb"),
                         start_new_session=True)
    try:
        _wait_port(port, p, 600)
        for i in range(LEAK_N):
            if i % 2:
                r = harness.http_request(port, "POST", "/post", b'{"x": "%s"}' % (b"a" * i),
                                         {"Content-Type": "application/json"}, timeout=60)
                assert r.status == 200 and r.text == str(i), r
            else:
                r = harness.http_request(port, "GET", "/", timeout=60)
                assert r.status == 200, r
        os.killpg(p.pid, signal.SIGINT)
        p.wait(300)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    text = log.read_text()
    assert "LEAK SUMMARY" in text or "All heap blocks were freed" in text, text[-3000:]
    events = harness.parse_log((tmp_path / "stderr.log").read_text())
    assert harness.find_events(events, "activate"), "library not active"
    records = re.split(r"\n==\d+== \n", text)
    ours = [r for r in records if "definitely lost" in r and "libflaskshield" in r]
    assert not ours, "definite leaks through the library:\n" + "\n\n".join(ours)[:20000]
    errors = [r for r in records if "libflaskshield" in r and
              re.search(r"Invalid (read|write|free)|uninitialised|Mismatched", r)]
    assert not errors, "memory errors in the library:\n" + "\n\n".join(errors)[:20000]
