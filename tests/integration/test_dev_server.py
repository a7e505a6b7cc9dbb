"""test_dev_server.py -- issue 4: the policy's `dev_server` for every way
into the Werkzeug development server: Flask.run (`python app.py`), `flask
run`, and werkzeug.serving.run_simple called directly -- both stacks, real
HTTP on loopback.

  allow     serves as asked (debug still forced off), nothing logged about it
  warn      serves, logs dev_server.used once however many requests
  refuse    never serves: exit status 78, no traceback, dev_server.refused
  waitress  the same app on the same host and port, served by waitress
            (Server header), honouring `threaded` (worker thread count),
            dev_server.replaced logged
"""

import socket
import time

import pytest

import harness

SECRET = "Q7v!mZ2#kP9x$Lr4&Tn8^Wb3*Hc6@Jd1%Fs5"

APP = '''
import os, threading
from flask import Flask, current_app, jsonify

app = Flask(__name__)
app.secret_key = {secret!r}


@app.route("/")
def index():
    return jsonify(debug=current_app.debug, pid=os.getpid(),
                   run_main=os.environ.get("WERKZEUG_RUN_MAIN"),
                   threads=sorted(t.name for t in threading.enumerate()))


if __name__ == "__main__":
    threaded = os.environ.get("THREADED") == "1"
    port = int(os.environ["PORT"])
    if os.environ["ENTRY"] == "run_simple":
        from werkzeug.serving import run_simple
        run_simple("127.0.0.1", port, app, threaded=threaded)
    else:
        app.run(host="127.0.0.1", port=port, debug=True, threaded=threaded)
'''

ENTRIES = ("Flask.run", "flask run", "run_simple")


def start(start_server, stack, tmp_path, entry, value, threaded=True,
          wait=True):
    app = harness.write_app(tmp_path, APP.format(secret=SECRET))
    policy = harness.write_policy(tmp_path, 'dev_server = "%s";\n' % value)
    env = {"ENTRY": entry, "THREADED": "1" if threaded else "0"}
    if entry == "flask run":
        args = [] if threaded else ["--without-threads"]
        return start_server("flask-run", stack, app, policy=policy, env=env,
                            extra_args=args, wait=wait)
    return start_server("script", stack, app, policy=policy, env=env, wait=wait)


def get_index(srv):
    r = srv.get("/")
    assert r.status == 200, (r, srv.describe())
    info = r.json()
    assert info["debug"] is False, info
    assert info["run_main"] is None and info["pid"] == srv.process.pid, info
    return r, info


def port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("entry", ENTRIES)
def test_allow(stack, entry, tmp_path, start_server):
    srv = start(start_server, stack, tmp_path, entry, "allow")
    for _ in range(3):
        r, info = get_index(srv)
        assert "Werkzeug" in r.headers.get("Server", ""), r.headers
    assert srv.events("dev_server.used") == []
    assert srv.events("dev_server.refused") == []
    assert srv.events("dev_server.replaced") == []
    assert srv.pids() == [srv.process.pid]


@pytest.mark.parametrize("entry", ENTRIES)
def test_warn(stack, entry, tmp_path, start_server):
    srv = start(start_server, stack, tmp_path, entry, "warn")
    for _ in range(4):
        r, info = get_index(srv)
        assert "Werkzeug" in r.headers.get("Server", ""), r.headers
    evs = srv.events("dev_server.used")
    assert len(evs) == 1, srv.log_lines()
    assert "gunicorn" in evs[0]["advice"] and "waitress" in evs[0]["advice"], evs
    assert evs[0]["pid"] == srv.process.pid
    assert evs[0]["app"] == ("__main__" if entry != "flask run" else "app"), evs
    assert srv.events("dev_server.refused") == []


@pytest.mark.parametrize("entry", ENTRIES)
def test_refuse(stack, entry, tmp_path, start_server):
    srv = start(start_server, stack, tmp_path, entry, "refuse", wait=False)
    rc = srv.process.wait(30)
    assert rc == 78, srv.describe()
    err = srv.stderr_text()
    assert "Traceback" not in err, err
    assert "Running on" not in err + srv.stdout_text(), err
    evs = srv.events("dev_server.refused")
    assert len(evs) == 1, srv.log_lines()
    ev = evs[0]
    assert ev["level"] == "error" and ev["enforced"] is True, ev
    assert "gunicorn" in ev["advice"] and "waitress" in ev["advice"], ev
    assert "reason" not in ev or ev["reason"] is None, ev
    assert srv.events("dev_server.used") == []
    assert not port_answers(srv.port)
    time.sleep(0.3)
    assert not port_answers(srv.port)


@pytest.mark.parametrize("threaded", [True, False], ids=["threaded", "unthreaded"])
@pytest.mark.parametrize("entry", ENTRIES)
def test_waitress(stack, entry, threaded, tmp_path, start_server):
    srv = start(start_server, stack, tmp_path, entry, "waitress", threaded)
    for _ in range(3):
        r, info = get_index(srv)
        assert r.headers.get("Server") == "waitress", r.headers
    workers = [t for t in info["threads"] if t.startswith("waitress-")]
    assert len(workers) == (4 if threaded else 1), info["threads"]
    evs = srv.events("dev_server.replaced")
    assert len(evs) == 1, srv.log_lines()
    assert evs[0]["server"] == "waitress" and evs[0]["threaded"] is threaded, evs
    assert srv.events("dev_server.refused") == []
    # the development server never started
    assert "Running on http" not in srv.stderr_text() + srv.stdout_text()
    assert srv.pids() == [srv.process.pid]


@pytest.mark.parametrize("entry", ["Flask.run", "run_simple"])
def test_waitress_unavailable_refuses(stack, entry, tmp_path, start_server):
    """dev_server = "waitress" without an importable waitress behaves as
    "refuse" (status 78, no traceback) and says why."""
    # a module named waitress first on sys.path (the script's folder) that
    # cannot be imported
    harness.write_file(tmp_path, "waitress.py",
                       'raise ImportError("waitress hidden by the test")\n')
    srv = start(start_server, stack, tmp_path, entry, "waitress", wait=False)
    rc = srv.process.wait(30)
    assert rc == 78, srv.describe()
    assert "Traceback" not in srv.stderr_text(), srv.stderr_text()
    evs = srv.events("dev_server.refused")
    assert len(evs) == 1, srv.log_lines()
    assert evs[0]["reason"] == "waitress is not importable", evs
    assert evs[0]["enforced"] is True
    assert srv.events("dev_server.replaced") == []
    assert not port_answers(srv.port)
