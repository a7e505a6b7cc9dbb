"""test_dev_server.py -- issues 4 and 12: the policy's `dev_server` for every
way into the Werkzeug development server: Flask.run (`python app.py`; also
Flask.run(self=app, ...), every argument by name),
`flask run`, werkzeug.serving.run_simple called directly,
werkzeug.serving.make_server(...).serve_forever() without run_simple, and a
server object made by hand (BaseWSGIServer, ThreadedWSGIServer); the
reloader started without run_simple (werkzeug._reloader.run_with_reloader,
as Flask-SocketIO does), and Flask-SocketIO's own socketio.run -- both
stacks (Flask-SocketIO: Debian's, Flask 2.2), real HTTP on loopback.

  allow     serves as asked (debug still forced off), nothing logged about it
  warn      serves, logs dev_server.used once however many requests
  refuse    never serves: exit status 78, no traceback, dev_server.refused
  waitress  the same app on the same host and port, served by waitress
            (Server header), honouring `threaded` (worker thread count),
            dev_server.replaced logged; refused (status 78, with the
            reason) where waitress cannot serve faithfully: make_server
            or a server made by hand (the caller drives the server object),
            ssl_context, static_files, request_handler, a unix:// host
  mode = "report" serves as asked and logs what enforce would do, once per
            function the program called (run_simple's own make_server and
            server object take no second decision)
A call Werkzeug rejects (wrong arguments) gets Werkzeug's TypeError, as
without the library.
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
        extra = eval(os.environ.get("RUN_SIMPLE_EXTRA", "{{}}"))
        host = os.environ.get("RUN_SIMPLE_HOST", "127.0.0.1")
        run_simple(host, port, app, threaded=threaded, **extra)
    elif os.environ["ENTRY"] == "make_server":
        from werkzeug.serving import make_server
        make_server("127.0.0.1", port, app, threaded=threaded).serve_forever()
    elif os.environ["ENTRY"] == "BaseWSGIServer":
        from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer
        cls = ThreadedWSGIServer if threaded else BaseWSGIServer
        cls("127.0.0.1", port, app).serve_forever()
    elif os.environ["ENTRY"] == "Flask.run by name":
        Flask.run(port=port, threaded=threaded, debug=True, self=app,
                  host="127.0.0.1")
    else:
        app.run(host="127.0.0.1", port=port, debug=True, threaded=threaded)
'''

ENTRIES = ("Flask.run", "Flask.run by name", "flask run", "run_simple",
           "make_server", "BaseWSGIServer")
# the entries waitress can stand in for
REPLACEABLE = ("Flask.run", "Flask.run by name", "flask run", "run_simple")


def start(start_server, stack, tmp_path, entry, value, threaded=True,
          wait=True, env=None, mode="enforce"):
    app = harness.write_app(tmp_path, APP.format(secret=SECRET))
    policy = harness.write_policy(tmp_path, 'mode = "%s";\ndev_server = "%s";\n'
                                  % (mode, value))
    env = dict(env or {}, ENTRY=entry, THREADED="1" if threaded else "0")
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
    if entry.startswith("Flask.run"):
        # debug=True corrected by Flask.run, however called, not later
        forced = srv.events("debug.forced_off")
        assert forced and all(e.get("via") == "Flask.run"
                              and e["source"] == "argument"
                              for e in forced), forced


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
@pytest.mark.parametrize("entry", REPLACEABLE)
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


def refused_with(srv, reason_part):
    rc = srv.process.wait(30)
    assert rc == 78, srv.describe()
    assert "Traceback" not in srv.stderr_text(), srv.stderr_text()
    evs = srv.events("dev_server.refused")
    assert len(evs) == 1 and evs[0]["enforced"] is True, srv.log_lines()
    assert reason_part is None or reason_part in evs[0]["reason"], evs
    assert srv.events("dev_server.replaced") == []
    assert not port_answers(srv.port)
    return evs[0]


UNFAITHFUL = {
    "make_server": ("make_server", {}, "make_server"),
    "BaseWSGIServer": ("BaseWSGIServer", {}, "BaseWSGIServer"),
    "ssl_context": ("run_simple",
                    {"RUN_SIMPLE_EXTRA": "{'ssl_context': ('c.pem', 'k.pem')}"},
                    "ssl_context"),
    "static_files": ("run_simple",
                     {"RUN_SIMPLE_EXTRA": "{'static_files': {'/s': '.'}}"},
                     "static_files"),
    "request_handler": (
        "run_simple",
        {"RUN_SIMPLE_EXTRA": "{'request_handler': __import__("
                             "'werkzeug.serving').serving.WSGIRequestHandler}"},
        "request_handler"),
    "unix socket": ("run_simple", {"RUN_SIMPLE_HOST": "unix://dev.sock"},
                    "unix://"),
}


@pytest.mark.parametrize("case", list(UNFAITHFUL))
def test_waitress_refuses_what_it_cannot_serve(stack, case, tmp_path,
                                               start_server):
    """dev_server = "waitress" refuses, saying why, where waitress would not
    serve what was asked: an HTTPS app.run would become plain HTTP, static
    files would be 404s, a make_server caller drives the server object
    (serve_forever, shutdown) itself, the caller's request handler would
    not run (it served without it), a unix:// host (waitress raised
    ValueError, a traceback and status 1)."""
    entry, env, reason = UNFAITHFUL[case]
    srv = start(start_server, stack, tmp_path, entry, "waitress", wait=False,
                env=env)
    ev = refused_with(srv, reason)
    assert ev["via"] == entry, ev


RELOADER_APP = """
import os, sys
from werkzeug._reloader import run_with_reloader


def main():
    print("main run_main=%s" % os.environ.get("WERKZEUG_RUN_MAIN"))
    sys.stdout.flush()
    os._exit(0)


run_with_reloader(main, interval=0.2)
"""


@pytest.mark.parametrize("mode", ["enforce", "report"])
def test_reloader_without_run_simple(stack, mode, tmp_path):
    """run_with_reloader() called directly: under debug.force_off the
    function runs once in this process, without the reloader's child (which
    Werkzeug marks WERKZEUG_RUN_MAIN=true); report mode leaves the reloader
    and says what enforce would do."""
    path = harness.write_app(tmp_path, RELOADER_APP, run_main=False)
    policy = harness.write_policy(tmp_path, 'mode = "%s";\n' % mode)
    cp = harness.run_python(stack, [str(path)], policy=policy, timeout=60)
    assert cp.returncode == 0, cp.stderr
    want = "None" if mode == "enforce" else "true"
    assert cp.stdout.strip() == "main run_main=%s" % want, cp.stdout
    evs = harness.find_events(cp.events, "debug.forced_off",
                              via="run_with_reloader")
    # once per process: in report mode the reloader's child logs too
    assert len(evs) == (1 if mode == "enforce" else 2), cp.stderr
    assert len({e["pid"] for e in evs}) == len(evs), cp.stderr
    assert all(e["enforced"] is (mode == "enforce") for e in evs), cp.stderr


SOCKETIO_APP = """
import os
from flask import Flask, current_app, jsonify
from flask_socketio import SocketIO

app = Flask(__name__)
app.secret_key = {secret!r}
socketio = SocketIO(app, async_mode="threading")


@app.route("/")
def index():
    return jsonify(debug=current_app.debug, pid=os.getpid(),
                   run_main=os.environ.get("WERKZEUG_RUN_MAIN"), threads=[])


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=int(os.environ["PORT"]),
                 debug=True, allow_unsafe_werkzeug=True)
"""


@pytest.mark.parametrize("value", ["warn", "refuse"])
def test_flask_socketio_run(stack, value, tmp_path, start_server):
    """Flask-SocketIO's socketio.run(app, debug=True): debug off, no
    reloader (the app answers from the process started, not a reloader
    child), the development server warned about or refused."""
    if stack.name != "debian":
        pytest.skip("Flask-SocketIO is Debian's package, for Flask 2.2")
    app = harness.write_app(tmp_path, SOCKETIO_APP.format(secret=SECRET))
    policy = harness.write_policy(tmp_path, 'dev_server = "%s";\n' % value)
    srv = start_server("script", stack, app, policy=policy,
                       wait=value != "refuse")
    if value == "refuse":
        refused_with(srv, None)
        return
    r, info = get_index(srv)
    assert srv.events("dev_server.used"), srv.log_lines()
    assert srv.events("debug.forced_off", enforced=True), srv.log_lines()


def test_flask_socketio_run_waitress(stack, tmp_path, start_server):
    """dev_server = "waitress" under Flask-SocketIO's socketio.run (threading
    mode): waitress serves the app and the Socket.IO middleware on the same
    port (an Engine.IO long-polling handshake answers), in the process
    started, debug off."""
    if stack.name != "debian":
        pytest.skip("Flask-SocketIO is Debian's package, for Flask 2.2")
    app = harness.write_app(tmp_path, SOCKETIO_APP.format(secret=SECRET))
    policy = harness.write_policy(tmp_path, 'dev_server = "waitress";\n')
    srv = start_server("script", stack, app, policy=policy)
    r, info = get_index(srv)
    assert r.headers.get("Server") == "waitress", r.headers
    hs = srv.get("/socket.io/?EIO=4&transport=polling")
    assert hs.status == 200 and b'"sid"' in hs.body, hs
    evs = srv.events("dev_server.replaced")
    assert len(evs) == 1 and evs[0]["enforced"] is True, srv.log_lines()
    assert evs[0]["threaded"] is True and evs[0]["via"] == "run_simple", evs
    assert srv.events("dev_server.refused") == []


@pytest.mark.parametrize("value", ["refuse", "waitress"])
@pytest.mark.parametrize("entry", ENTRIES)
def test_report_mode(stack, entry, value, tmp_path, start_server):
    """mode = "report": the development server serves as asked, and what
    enforce would do is logged once, by the function the program called
    (run_simple's own make_server() and server object are not a second
    development server): refused, or replaced by waitress (refused, with
    the reason, for make_server and a server made by hand)."""
    srv = start(start_server, stack, tmp_path, entry, value, mode="report")
    for _ in range(2):
        r = srv.get("/")
        assert r.status == 200, (r, srv.describe())
        assert "Werkzeug" in r.headers.get("Server", ""), r.headers
    via = entry if entry not in REPLACEABLE else "run_simple"
    replaced = value == "waitress" and entry in REPLACEABLE
    refused = srv.events("dev_server.refused")
    evs = srv.events("dev_server.replaced") if replaced else refused
    # app.run(debug=True) keeps its reloader in report mode: its child, the
    # server, runs run_simple again and logs for itself
    pids = [srv.process.pid] + ([r.json()["pid"]] if entry.startswith("Flask.run")
                                else [])
    assert sorted(e["pid"] for e in evs) == sorted(pids), srv.log_lines()
    assert evs[0]["via"] == via and evs[0]["enforced"] is False, evs
    assert evs[0]["mode"] == "report", evs
    if replaced:
        assert evs[0]["server"] == "waitress" and refused == [], srv.log_lines()
    assert srv.events("dev_server.used") == []


WRONG_CALLS = """
import sys
from flask import Flask
from werkzeug import serving, _reloader

app = Flask(__name__)
app.secret_key = {secret!r}
calls = [
    lambda: serving.make_server("127.0.0.1", 1, app, bogus=1),
    lambda: serving.make_server("127.0.0.1", 1, app, False, 1, None, False,
                                None, None, "one too many"),
    lambda: serving.make_server("127.0.0.1", 1, app, host="127.0.0.1"),
    lambda: serving.make_server("127.0.0.1"),
    lambda: serving.BaseWSGIServer("127.0.0.1", 1, app, bogus=1),
    lambda: serving.ThreadedWSGIServer("127.0.0.1", 1, app, port=1),
    lambda: serving.BaseWSGIServer("127.0.0.1", 1),
    lambda: serving.run_simple("127.0.0.1", 1, app, bogus=1),
    lambda: serving.run_simple("127.0.0.1", 1, app, hostname="x"),
    lambda: serving.run_simple(port=1, application=app),
    # Werkzeug's own check (waitress served a str port)
    lambda: serving.run_simple("127.0.0.1", "1", app),
    lambda: _reloader.run_with_reloader(print, bogus=1),
    lambda: _reloader.run_with_reloader(print, main_func=print),
    lambda: _reloader.run_with_reloader(),
    lambda: Flask.run(host="x.invalid", port=1, debug=True),
    lambda: app.run("x.invalid", 1, host="x.invalid", debug=True),
    lambda: Flask.run(app, self=app, port=1, debug=True),
    lambda: Flask.run(app, "x.invalid", 1, True, True, "one too many"),
]
for call in calls:
    try:
        call()
    except TypeError as e:
        print("TypeError:", e)
    else:
        print("no error")
"""


@pytest.mark.parametrize("value", ["refuse", "waitress", "warn"])
def test_wrong_arguments_as_without_library(stack, value, tmp_path):
    """A call that make_server, BaseWSGIServer, run_simple,
    run_with_reloader or Flask.run would
    reject (an unknown keyword, one argument given twice, too many or too
    few) gets Werkzeug's own TypeError, as without the library: no exit,
    no other server, no reloader run, nothing logged about it."""
    path = harness.write_app(tmp_path, WRONG_CALLS.format(secret=SECRET),
                             run_main=False)
    policy = harness.write_policy(tmp_path, 'dev_server = "%s";\n' % value)
    base = harness.run_python(stack, [str(path)], preload=False, timeout=60)
    cp = harness.run_python(stack, [str(path)], policy=policy, timeout=60)
    assert base.returncode == 0, base.stderr
    assert base.stdout.count("TypeError:") == 18, base.stdout
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == base.stdout, (cp.stdout, base.stdout)
    assert "Traceback" not in cp.stderr, cp.stderr
    for ev in ("dev_server.used", "dev_server.refused", "dev_server.replaced",
               "debug.forced_off"):
        assert harness.find_events(cp.events, ev) == [], cp.stderr


RELOADER_CTRL_C = """
from werkzeug._reloader import run_with_reloader


def main():
    print("main")
    raise KeyboardInterrupt


print("returned", run_with_reloader(main))
"""


def test_reloader_switched_off_ctrl_c(stack, tmp_path):
    """run_with_reloader() without its reloader (debug.force_off) still
    ends quietly on Ctrl-C in its function, as Werkzeug's does: no
    traceback, status 0, None returned."""
    path = harness.write_app(tmp_path, RELOADER_CTRL_C, run_main=False)
    policy = harness.write_policy(tmp_path, 'dev_server = "allow";\n')
    cp = harness.run_python(stack, [str(path)], policy=policy, timeout=60)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["main", "returned", "None"], cp.stdout
    assert "Traceback" not in cp.stderr, cp.stderr
    assert harness.find_events(cp.events, "debug.forced_off",
                               via="run_with_reloader", enforced=True)
