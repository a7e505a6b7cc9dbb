"""test_harness.py -- the harness (tests/harness/) itself, WITHOUT the library
(preload=False).

Every stack runs every server kind it can; a hello-world app answers with its
Flask version, and gunicorn and waitress echo a 100 KiB chunked upload.  These
checks keep the harness honest: if they fail, the library tests mean nothing.
"""

import os
import time

import pytest

import harness
from harness import KINDS

HELLO = """
    import importlib.metadata, os
    from flask import Flask, request

    app = Flask(__name__)

    @app.route("/")
    def hello():
        return "hello flask=%s werkzeug=%s pid=%d" % (
            importlib.metadata.version("flask"),
            importlib.metadata.version("werkzeug"), os.getpid())

    @app.route("/echo", methods=["POST"])
    def echo():
        data = request.get_data()
        return {"length": len(data),
                "te": request.environ.get("HTTP_TRANSFER_ENCODING", ""),
                "cl": request.environ.get("CONTENT_LENGTH", ""),
                "ok": data == bytes(i % 251 for i in range(len(data)))}
"""

EXPECTED_MAJOR = {"debian": "2.2.", "pyenv": "3.1."}


def test_stacks_differ(stack):
    assert stack.flask_version.startswith(EXPECTED_MAJOR[stack.name]), stack
    assert stack.werkzeug_version.startswith(EXPECTED_MAJOR[stack.name]), stack
    assert stack.flask_major == int(EXPECTED_MAJOR[stack.name][0])


def test_pyenv_sees_its_own_flask_and_debian_servers(stack):
    cp = harness.run_python(
        stack, ["-c", "import flask, gunicorn, waitress, sys; "
                      "print(flask.__file__); print(gunicorn.__file__); "
                      "print(waitress.__file__); print(sys.version)"],
        preload=False)
    assert cp.returncode == 0, cp.stderr
    flask_file, gunicorn_file, waitress_file = cp.stdout.splitlines()[:3]
    if stack.name == "pyenv":
        assert flask_file.startswith("/root/.pyenv/"), flask_file
        assert "3.11.7" in cp.stdout
    else:
        assert flask_file.startswith("/usr/lib/python3/dist-packages/"), flask_file
    assert "gunicorn" in gunicorn_file and "waitress" in waitress_file
    cp = harness.run_python(stack, ["-m", "gunicorn", "--version"], preload=False)
    assert cp.returncode == 0 and "20.1" in cp.stdout + cp.stderr, cp


@pytest.mark.parametrize("kind", KINDS)
def test_hello(stack, kind, tmp_path, start_server):
    app = harness.write_app(tmp_path, HELLO)
    srv = start_server(kind, stack, app, preload=False)
    status, headers, body = srv.get("/")
    assert status == 200, srv.describe()
    text = body.decode()
    assert "hello flask=%s werkzeug=%s" % (stack.flask_version,
                                            stack.werkzeug_version) in text
    assert EXPECTED_MAJOR[stack.name] in text
    assert "LD_PRELOAD" not in srv.env
    pid = int(text.rsplit("pid=", 1)[1])
    assert pid in srv.pids(), (pid, srv.pids())
    assert srv.log_lines() == []        # no library, no flaskshield lines
    srv.stop()
    assert not srv.alive()
    assert harness.group_pids(srv.process.pid) == []


@pytest.mark.parametrize("kind", ["gunicorn", "waitress"])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "length"])
def test_post_echo(stack, kind, chunked, tmp_path, start_server):
    app = harness.write_app(tmp_path, HELLO)
    srv = start_server(kind, stack, app, preload=False)
    data = bytes(i % 251 for i in range(100 * 1024))
    r = srv.post("/echo", data, chunked=chunked)
    assert r.status == 200, srv.describe()
    got = r.json()
    assert got["ok"] and got["length"] == len(data), got
    if not chunked:
        assert (got["te"], got["cl"]) == ("", str(len(data))), got
    elif kind == "gunicorn":
        # gunicorn passes the chunked body through (wsgi.input_terminated).
        assert (got["te"], got["cl"]) == ("chunked", ""), got
    else:
        # waitress de-chunks into a buffer and presents a Content-Length.
        assert (got["te"], got["cl"]) == ("", str(len(data))), got


def test_impossible_combinations_skip_only_on_pyenv(stack, tmp_path, start_server):
    for kind in harness.DEBIAN_ONLY_KINDS:
        assert stack.supports(kind) == (stack.name == "debian")
    assert all(stack.supports(k) for k in KINDS
               if k not in harness.DEBIAN_ONLY_KINDS)


def test_server_exit_is_reported(tmp_path, start_server):
    stack = harness.make_stack("debian", tmp_path)
    app = harness.write_app(tmp_path, "raise SystemExit('boom at import')\n",
                            run_main=False)
    with pytest.raises(harness.ServerExited) as ei:
        start_server("script", stack, app, preload=False, timeout=10)
    assert ei.value.server.returncode not in (None, 0)
    assert "boom at import" in ei.value.server.stderr_text()


def test_stop_kills_the_whole_group(tmp_path, start_server):
    """A server whose leader ignores SIGTERM and that has a child is still
    fully stopped, within bounds."""
    stack = harness.make_stack("debian", tmp_path)
    app = harness.write_app(tmp_path, """
        import os, signal, subprocess, sys
        from flask import Flask
        app = Flask(__name__)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])

        @app.route("/")
        def child_pid():
            return str(child.pid)
        """)
    srv = start_server("script", stack, app, preload=False)
    child = int(srv.get("/").body)
    assert child in srv.pids()
    t0 = time.monotonic()
    srv.stop(timeout=2)
    assert time.monotonic() - t0 < 10
    assert not os.path.exists("/proc/%d/status" % child) or \
        "Z" in open("/proc/%d/stat" % child).read().split(")")[1][:3]


def test_parse_log_ignores_other_lines():
    text = "\n".join([
        "plain text",
        '{"src":"flaskshield","event":"attach","level":"info","pid":1}',
        '{"src":"other","event":"x"}',
        "{not json",
        '[Mon Jan 01] [wsgi:error] [pid 7] {"src":"flaskshield","event":"e2"}',
        '{"src":"flaskshield","event":"attach","level":"warn","pid":2}',
    ])
    lines = harness.parse_log(text)
    assert [o["event"] for o in lines] == ["attach", "e2", "attach"]
    assert harness.find_events(lines, "attach", level="warn") == [lines[2]]


def test_run_cmd_without_library_is_plain(tmp_path):
    argv = ["sh", "-c", "echo out; echo err >&2; exit 3"]
    a = harness.run_cmd(argv, preload=False)
    b = harness.run_cmd(argv, preload=False)
    assert (a.returncode, a.stdout, a.stderr) == (3, b"out\n", b"err\n")
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)
    assert a.events == []


def test_library_missing_fails_not_skips(monkeypatch, tmp_path):
    monkeypatch.setenv("FLASKSHIELD_BUILD", str(tmp_path / "nowhere"))
    with pytest.raises(harness.HarnessError, match="not built"):
        harness.require_library()
