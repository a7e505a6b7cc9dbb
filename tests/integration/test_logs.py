"""test_logs.py -- log lines fit for pipelines (issue 16).

On both stacks, one Python process with two Flask apps ("shop", which an
apps entry gives a service of its own, and "blog") serving a request each
through the test client:
- log.level = "warning" drops the info lines (activate, body.capped) and
  keeps the warnings (debug.forced_off);
- log.format = "text" is logfmt, every line parsed by the small strict
  parser below, with the fields of the JSON lines (ts first, null fields
  left out, quoted values unescaped);
- every line carries host; service is the app's apps entry's, else the
  top-level one (activate: the top-level one), in both formats, and absent
  when none is set;
- log.target = "syslog" with nothing listening on /dev/log (a mount
  namespace binds /dev/null over it when the host has one) writes one
  log.fallback line, then every line to stderr; with a daemon listening
  (a datagram socket of the test bound over /dev/log) lines go there and
  stderr stays empty;
- a log.file that cannot be opened gives one log.fallback line, and not
  again when a changed policy is put in force while the process runs.
"""

import json
import os
import re
import shutil
import socket
import pytest

import harness

# Two apps, one request each; DEBUG on gives debug.forced_off (warning),
# no MAX_CONTENT_LENGTH gives body.capped (info).  With RELOAD="OLD=>NEW",
# OLD is replaced by NEW in the policy file and a request after the reload
# interval puts the changed policy in force.
APP = '''
import os, sys, time
from flask import Flask

def make(name):
    a = Flask(name)
    a.config["DEBUG"] = True
    a.config["MAX_CONTENT_LENGTH"] = None
    a.config["SECRET_KEY"] = "Zq3v9LkP2xW8mN4rT7yB1cF6hJ0sD5gA-" + name

    @a.route("/")
    def index():
        return "ok"
    return a

shop, blog = make("shop"), make("blog")
print(shop.test_client().get("/").status_code,
      blog.test_client().get("/").status_code)
if os.environ.get("RELOAD"):
    path = os.environ["FLASKSHIELD_POLICY"]
    with open(path) as f:
        text = f.read()
    old, new = os.environ["RELOAD"].split("=>")
    with open(path, "w") as f:
        f.write(text.replace(old, new))
    time.sleep(2.5)
    print(shop.test_client().get("/").status_code)
if os.environ.get("STEAL"):         # close-all, then a file of the app's
    log = os.environ["LOGFILE"]
    for fd in os.listdir("/proc/self/fd"):
        if os.path.realpath("/proc/self/fd/" + fd) == log:
            os.close(int(fd))
            mine = os.open(os.environ["STEAL"], os.O_WRONLY | os.O_CREAT)
            assert mine == int(fd), (mine, fd)
    os.rename(log, log + ".1")
    time.sleep(1.5)
    print(make("cart").test_client().get("/").status_code)
    os.write(mine, b"APPDATA")
if os.environ.get("ROTATE"):        # logrotate: rename, then a new app
    os.rename(os.environ["ROTATE"], os.environ["ROTATE"] + ".1")
    time.sleep(1.5)
    print(make("cart").test_client().get("/").status_code)
if os.environ.get("LOGFILE"):       # descriptors open on the log file
    fds = os.listdir("/proc/self/fd")
    print(sum(os.path.realpath("/proc/self/fd/" + fd) == os.environ["LOGFILE"]
              for fd in fds))
'''

POLICY = '''
version = 1;
reload_interval = 1;
dev_server = "warn";
service = "fleet";
log = { %(log)s };
apps = ( { match = "shop"; service = "shop api"; } );
'''


def write(tmp_path, log, service=True):
    text = POLICY % {"log": log}
    if not service:
        text = text.replace('service = "fleet";', "").replace(
            ' service = "shop api";', ' mode = "enforce";')
    app = harness.write_app(tmp_path, APP, run_main=False)
    return app, harness.write_policy(tmp_path, text)


def run(stack, app, policy, env=None):
    cp = harness.run_python(stack, [str(app)], policy=policy, env=env)
    assert cp.returncode == 0, cp.stderr
    return cp


# logfmt: key=value pairs separated by one space; a value bare (no space,
# '=', '"', backslash or control character) or quoted with JSON's escapes.
PAIR = re.compile(r'([a-z_]+)=("(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-f]{4})*"'
                  r'|[^ "=\\\x00-\x1f\x7f]+)( |$)')


def parse_logfmt(line):
    """The pairs of one logfmt line, in order; fails on anything else."""
    out, pos = {}, 0
    while pos < len(line):
        m = PAIR.match(line, pos)
        assert m, "not logfmt at %d: %r" % (pos, line)
        key, value = m.group(1), m.group(2)
        assert key not in out, line
        out[key] = json.loads(value) if value.startswith('"') else value
        pos = m.end()
        assert (m.group(3) == " ") == (pos < len(line)), line
    assert out, line
    return out


def text_lines(stderr):
    return [parse_logfmt(line) for line in stderr.splitlines()
            if "src=flaskshield" in line]


def test_parse_logfmt_itself():
    assert parse_logfmt('a=1 b="x y" c="q\\"\\\\" d=""') == {
        "a": "1", "b": "x y", "c": 'q"\\', "d": ""}
    for bad in ('a=1  b=2', 'a=x"y', 'a="x', 'a=1 ', 'a=b=c', '=1'):
        with pytest.raises(AssertionError):
            parse_logfmt(bad)


def test_level_warning_drops_info_lines(stack, tmp_path, shield):
    app, policy = write(tmp_path, 'level = "warning";')
    cp = run(stack, app, policy)
    assert cp.events, cp.stderr
    assert not [e for e in cp.events if e["level"] in ("debug", "info")], \
        cp.stderr
    assert not harness.find_events(cp.events, "activate")
    assert not harness.find_events(cp.events, "body.capped")
    assert harness.find_events(cp.events, "debug.forced_off", app="shop")
    assert harness.find_events(cp.events, "debug.forced_off", app="blog")
    # the default, info, keeps them
    app, policy = write(tmp_path, "")
    cp = run(stack, app, policy)
    assert len(harness.find_events(cp.events, "activate")) == 1
    assert harness.find_events(cp.events, "body.capped", app="shop")


def test_text_is_logfmt_with_the_json_fields(stack, tmp_path, shield):
    app, policy = write(tmp_path, 'format = "text";')
    cp = run(stack, app, policy)
    assert not cp.events                  # no JSON line
    lines = text_lines(cp.stderr)
    assert len(lines) == len([l for l in cp.stderr.splitlines()
                              if "flaskshield" in l]), cp.stderr
    app, policy = write(tmp_path / "json", "")
    events = run(stack, app, policy).events
    assert [(l["event"], l.get("app")) for l in lines] == \
        [(e["event"], e["app"]) for e in events]
    for line, event in zip(lines, events):
        assert list(line)[:5] == ["ts", "src", "level", "event", "pid"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                            line["ts"]), line
        assert line["src"] == "flaskshield"
        # the same fields as the JSON line, null ones left out, values as
        # text; policy and service differ by the file's folder and digest
        want = {k: v for k, v in event.items()
                if v is not None and k not in ("ts", "pid", "policy",
                                               "policy_digest")}
        want = {k: (str(v).lower() if isinstance(v, bool) else str(v))
                for k, v in want.items()}
        got = {k: v for k, v in line.items()
               if k not in ("ts", "pid", "policy", "policy_digest")}
        assert got == want
    assert [l for l in lines if l.get("service") == "shop api"], cp.stderr
    assert 'service="shop api"' in cp.stderr


def test_host_and_service_in_every_line(stack, tmp_path, shield):
    host = socket.gethostname()
    app, policy = write(tmp_path, "")
    events = run(stack, app, policy,
                 env={"RELOAD": '"fleet"=>"fleet2"'}).events
    # process-level events carry the service of the policy in force
    assert harness.find_events(events, "policy.reloaded", service="fleet2")
    events = [e for e in events if e["event"] != "policy.reloaded"]
    assert events
    for e in events:
        assert e["host"] == host, e
        assert e["service"] == ("shop api" if e["app"] == "shop"
                                else "fleet"), e
    assert harness.find_events(events, "activate", service="fleet")
    assert harness.find_events(events, "body.capped", app="blog",
                               service="fleet")
    assert harness.find_events(events, "body.capped", app="shop",
                               service="shop api")
    # no service set: no service field
    app, policy = write(tmp_path / "none", "", service=False)
    events = run(stack, app, policy).events
    assert events and all("service" not in e and e["host"] == host
                          for e in events), events


# Run "$@" in a mount namespace of its own whose /dev is a fresh tmpfs with
# only null, zero, urandom and random, and log when $LOG names a socket.
NAMESPACE = r'''
set -e
mount --bind /dev "$OLD"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero urandom random; do
    touch /dev/$n
    mount --bind "$OLD/$n" /dev/$n
done
if [ -n "$LOG" ]; then
    touch /dev/log
    mount --bind "$LOG" /dev/log
fi
exec "$@"
'''


def run_namespaced(stack, tmp_path, app, policy, log=""):
    unshare = shutil.which("unshare")
    assert unshare, "unshare(1) (util-linux) is needed"
    old = tmp_path / "olddev"
    old.mkdir()
    cp = harness.run_cmd(
        [unshare, "-m", "--propagation", "private", "sh", "-c", NAMESPACE,
         "sh", stack.python, app],
        policy=policy, stack=stack, text=True,
        env={"OLD": old, "LOG": log})
    assert cp.returncode == 0, cp.stderr
    return cp


def test_syslog_without_a_daemon_falls_back_to_stderr(stack, tmp_path,
                                                      shield):
    app, policy = write(tmp_path, 'target = "syslog";', service=False)
    cp = run_namespaced(stack, tmp_path, app, policy)
    fallback = harness.find_events(cp.events, "log.fallback")
    assert len(fallback) == 1, cp.stderr
    assert fallback[0]["socket"] == "/dev/log"
    assert fallback[0]["reason"] == "No such file or directory"
    assert fallback[0]["effect"] == "logging to stderr"
    assert cp.events[0]["event"] == "log.fallback", cp.stderr
    assert harness.find_events(cp.events, "activate")
    assert harness.find_events(cp.events, "body.capped", app="shop")


def test_syslog_with_a_daemon_is_used(stack, tmp_path, shield):
    sock_path = str(tmp_path / "log")
    daemon = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    daemon.bind(sock_path)
    got = []

    def serve():
        # read while the app runs: a datagram socket queues only
        # net.unix.max_dgram_qlen (10) messages, then syslog(3) blocks
        try:
            while True:
                got.append(daemon.recv(65536).decode("utf-8", "replace"))
        except socket.timeout:
            pass

    import threading
    daemon.settimeout(3.0)
    reader = threading.Thread(target=serve)
    reader.start()
    try:
        app, policy = write(tmp_path, 'target = "syslog";', service=False)
        cp = run_namespaced(stack, tmp_path, app, policy, log=sock_path)
    finally:
        reader.join()
        daemon.close()
    assert "flaskshield" not in cp.stderr, cp.stderr
    text = "\n".join(got)
    assert "log.fallback" not in text, got
    assert '"event":"activate"' in text, got
    assert '"event":"body.capped"' in text, got


def test_unopenable_log_file_one_notice(stack, tmp_path, shield):
    missing = tmp_path / "no-such-folder" / "flaskshield.log"
    app, policy = write(tmp_path, 'target = "file"; file = "%s";' % missing,
                        service=False)
    cp = run(stack, app, policy, env={
        "RELOAD": 'dev_server = "warn";=>dev_server = "allow";'})
    # the changed policy was put in force ...
    assert harness.find_events(cp.events, "policy.reloaded"), cp.stderr
    # ... and the fallback was said once, before everything else
    fallback = harness.find_events(cp.events, "log.fallback")
    assert len(fallback) == 1, cp.stderr
    assert fallback[0]["file"] == str(missing)
    assert fallback[0]["reason"] == "No such file or directory"
    assert fallback[0]["effect"] == "logging to stderr"
    assert cp.events[0]["event"] == "log.fallback"
    assert harness.find_events(cp.events, "activate")
    assert not missing.parent.exists()


def test_reload_keeps_the_open_log_file(stack, tmp_path, shield):
    """A reload that names the same log file writes on through the
    descriptor it has (one descriptor, however many reloads)."""
    log = tmp_path / "flaskshield.log"
    app, policy = write(tmp_path, 'target = "file"; file = "%s";' % log,
                        service=False)
    cp = run(stack, app, policy, env={
        "RELOAD": 'dev_server = "warn";=>dev_server = "allow";',
        "LOGFILE": str(log)})
    assert cp.stdout.split()[-1] == "1", cp.stdout
    events = harness.parse_log(log.read_text())
    assert harness.find_events(events, "policy.reloaded"), events
    assert not harness.find_events(events, "log.fallback"), events


def test_rotated_log_file_is_opened_again(stack, tmp_path, shield):
    """logrotate renames the file (and its postrotate signals nobody): the
    check of the policy files, every reload_interval, finds the path no
    longer the open file and opens it again, onto the same descriptor.
    Before: every later line went to the renamed file."""
    log = tmp_path / "flaskshield.log"
    app, policy = write(tmp_path, 'target = "file"; file = "%s";' % log,
                        service=False)
    cp = run(stack, app, policy, env={"ROTATE": str(log), "LOGFILE": str(log)})
    assert cp.stdout.split()[-2:] == ["200", "1"], cp.stdout
    old = harness.parse_log((tmp_path / "flaskshield.log.1").read_text())
    new = harness.parse_log(log.read_text())
    assert {e["app"] for e in harness.find_events(old, "debug.forced_off")} \
        == {"shop", "blog"}, old
    assert [e["app"] for e in harness.find_events(new, "debug.forced_off")] \
        == ["cart"], new
    assert not harness.find_events(new, "log.fallback"), new


def test_a_reused_log_descriptor_is_never_replaced(stack, tmp_path, shield):
    """An app that closes every descriptor (a daemon) and opens a file of
    its own gets the log's number: a rotation found later never replaces
    that file of the app's under it."""
    log = tmp_path / "flaskshield.log"
    app, policy = write(tmp_path, 'target = "file"; file = "%s";' % log,
                        service=False)
    mine = tmp_path / "mine.dat"
    cp = run(stack, app, policy, env={"STEAL": str(mine),
                                      "LOGFILE": str(log)})
    assert "200" in cp.stdout.split(), cp.stdout
    assert mine.read_bytes().endswith(b"APPDATA"), mine.read_bytes()[-200:]
