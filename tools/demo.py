#!/usr/bin/env python3
"""tools/demo.py -- show the shield on the original finding (`make demo`).

Runs examples/vulnerable_app.py (it ends in app.run(debug=True), has the
weak key "dev" and no body limit) on a free loopback port three times:
as it is; with build/libflaskshield.so preloaded and the shipped default
policy (etc/policy.conf), which refuses the weak key outright; and with
the defaults except that the key is only warned about, so that the other
corrections show.  Each time it asks for the interactive debugger's
console, a route that raises, the home page, and sends a 20 MiB body, and
prints what came back and the library's log lines.  Standard library only;
every process it starts is stopped.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("FLASKSHIELD_BUILD", os.path.join(ROOT, "build"))
APP = os.path.join(ROOT, "examples", "vulnerable_app.py")
POLICY = os.path.join(ROOT, "etc", "policy.conf")
PYTHON = "/usr/bin/python3"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        try:
            conn.request(method, path, body=body)
        except (BrokenPipeError, ConnectionResetError):
            pass            # answered (413) before the whole body was sent
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    except OSError as e:
        return None, "connection failed: %s" % e
    finally:
        conn.close()


def start(policy):
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PORT": str(port)}
    if policy:
        env["LD_PRELOAD"] = os.path.join(BUILD, "libflaskshield.so")
        env["FLASKSHIELD_POLICY"] = policy
    proc = subprocess.Popen([PYTHON, APP], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    stop(proc)
    sys.exit("demo: the example app did not start:\n" + proc.stderr.read())


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        return proc.communicate(timeout=10)[1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()[1]


def describe(status, body, leaks):
    found = [w for w in leaks if w in body]
    return "%s  %s" % (status, "shows " + ", ".join(found) if found
                       else "no debugger, no traceback")


def run(title, policy=None):
    print("\n== examples/vulnerable_app.py, %s ==" % title)
    proc, port = start(policy)
    try:
        status, body = request(port, "GET", "/console")
        print("  GET /console        ->",
              describe(status, body, ["Werkzeug Debugger", "console"]))
        status, body = request(port, "GET", "/boom")
        print("  GET /boom (raises)  ->",
              describe(status, body, ["Traceback", "RuntimeError",
                                      "vulnerable_app.py"]))
        status, body = request(port, "GET", "/")
        print("  GET /               -> %s  %s" % (status, body.strip()[:60]
                                                  .replace("\n", " ")))
        status, _ = request(port, "POST", "/upload", b"x" * (20 << 20))
        print("  POST 20 MiB body    -> %s" % status)
    finally:
        stderr = stop(proc)
    lines = [json.loads(l) for l in stderr.splitlines()
             if l.startswith("{") and '"src":"flaskshield"' in l]
    for ev in lines:
        extra = {k: v for k, v in ev.items()
                 if k not in ("ts", "src", "pid", "level", "event")}
        print("  log: %-7s %-22s %s" % (ev["level"], ev["event"],
                                        json.dumps(extra)))


def main():
    for f in (APP, os.path.join(BUILD, "libflaskshield.so")):
        if not os.path.exists(f):
            sys.exit("demo: %s is missing (run make first)" % f)
    run("without the library")
    run("with libflaskshield.so and the default policy", POLICY)
    warn = os.path.join(BUILD, "demo-warn-key.conf")
    with open(warn, "w") as f:
        f.write('version = 1;\nsecret_key = { on_violation = "warn"; };\n')
    os.chmod(warn, 0o644)
    run('with the library, the weak key only warned about '
        '(secret_key.on_violation = "warn")', warn)
    print("\nThe shipped policy is %s; validate your own with "
          "`build/flaskshield check FILE`." % os.path.relpath(POLICY, ROOT))


if __name__ == "__main__":
    main()
