"""test_examples.py -- every file of examples/ run for real.

Issue 7.  The examples folder is copied to a temporary directory and each
deployment file is used as an operator would, with only the port (and,
for Apache and nginx, paths) substituted:

  vulnerable_app.py   `python vulnerable_app.py` (app.run(debug=True)):
                      without the library the debugger's traceback page;
                      with it debug off, a generic 500, the weak key refused
  factory_app.py      through gunicorn.conf.py, waitress_serve.sh
                      (`flaskshield run`), uwsgi.ini and app.wsgi
  apache-flaskshield.conf   mod_wsgi daemon mode, derived config
  nginx.conf          a real nginx on loopback in front of gunicorn
  Dockerfile          built by `make image-test` where a Docker daemon
                      answers; here: its COPY sources exist

Servers are harness.Server objects (subclassed for a command line of the
example's own), so the harness stops them and reads their logs.
"""

import re
import shutil
import textwrap
import time
from pathlib import Path

import pytest

import harness

REPO = harness.REPO
EXAMPLES = REPO / "examples"
STRONG_KEY = "b7Qe2pXz9LmK4vRt8NwY3sHd6JfG1cVa5uEo0iTq"
GENERIC_500 = "<title>500 Internal Server Error</title>"


class ExampleServer(harness.Server):
    """A harness.Server whose command line is given (`{port}` and `{dir}`
    are substituted), or an Apache/nginx with a derived config."""

    def __init__(self, kind, stack, app_path, argv, policy=None, env=None,
                 preload=True):
        harness.Server.__init__(self, kind, stack, app_path, policy, env,
                                preload, (), "app", 2)
        self.template = list(argv)
        self.conf_text = None

    def _base_argv(self):
        out = [str(a).format(port=self.port, dir=self.dir) for a in self.template]
        if self.conf_text is not None:
            conf = self.dir / "server.conf"
            conf.write_text(self.conf_text.replace("@PORT@", str(self.port))
                            .replace("@DIR@", str(self.dir)))
            conf.chmod(0o644)
        return out


@pytest.fixture
def examples(tmp_path):
    """A copy of examples/ (world-readable, for Apache's www-data)."""
    dest = tmp_path / "examples"
    shutil.copytree(EXAMPLES, dest)
    harness.make_traversable(dest)
    for p in dest.rglob("*"):
        p.chmod(0o755 if p.is_dir() or p.suffix == ".sh" else 0o644)
    return dest


@pytest.fixture
def run_example(request):
    started = []

    def start(kind, stack, app_path, argv, conf_text=None, wait=True,
              stop_timeout=harness.STOP_TIMEOUT, **kw):
        srv = ExampleServer(kind, stack, app_path, argv, **kw)
        srv.conf_text = conf_text
        srv.stop_timeout = stop_timeout
        started.append(srv)
        return srv.start(wait=wait)

    yield start
    for srv in started:
        srv.stop()
    if not any(getattr(request.node, "_rep_" + w, None) is not None
               and getattr(request.node, "_rep_" + w).failed
               for w in ("setup", "call")):
        for srv in started:
            srv.cleanup_files()
    else:
        for srv in started:
            print("server %s kept in %s" % (srv.kind, srv.dir))


def policy_with(tmp_path, extra, name="policy.conf"):
    """A policy: the built-in defaults and some settings."""
    text = "version = 1;\n" + textwrap.dedent(extra)
    return harness.write_policy(tmp_path, text, name=name)


def no_library_env():
    """The environment of a run without the library: harness.baseline_env()
    (nothing preloaded; in a sanitizer build the sanitizer runtime alone, with
    its options: `flaskshield run` appends the library after it)."""
    return harness.baseline_env()


def assert_generic_500(resp):
    assert resp.status == 500, resp.text
    assert GENERIC_500 in resp.text
    for leak in ("Traceback", "Werkzeug Debugger", "RuntimeError",
                 "something broke"):
        assert leak not in resp.text


def assert_shielded_factory(srv, server_name, max_body):
    """factory_app behind any server: debug off despite FLASK_DEBUG=true,
    the body cap in force, a generic 500, a 413 over the cap."""
    r = srv.get("/")
    assert r.status == 200, r.text + srv.describe()
    info = r.json()
    assert info["debug"] is False
    assert info["max_content_length"] == max_body
    if server_name is not None:
        assert server_name in info["server"].lower()
    assert_generic_500(srv.get("/boom"))
    assert srv.post("/upload", b"x" * (max_body // 2)).json() == {
        "received": max_body // 2}
    assert srv.post("/upload", b"x" * (max_body * 2)).status == 413
    assert srv.wait_for_event("debug.forced_off")
    assert srv.events("body.capped", key="MAX_CONTENT_LENGTH", new=max_body)
    assert not srv.events("secret_key.rejected")


# --------------------------------------------------------------------------
# vulnerable_app.py


def test_vulnerable_app_without_library_shows_the_debugger(stack, examples,
                                                           start_server):
    srv = start_server("script", stack, examples / "vulnerable_app.py",
                       preload=False)
    r = srv.get("/boom")
    assert r.status == 500
    assert "Werkzeug Debugger" in r.text and "Traceback" in r.text
    assert srv.get("/").status == 200
    assert srv.post("/upload", b"x" * 100000).text == "received 100000 bytes\n"
    assert srv.log_lines() == []


def test_vulnerable_app_under_library(stack, shield, examples, tmp_path,
                                      start_server):
    app = examples / "vulnerable_app.py"
    # The shipped policy: the weak key "dev" is refused, debug is off.
    policy = harness.write_policy(tmp_path, (REPO / "etc/policy.conf").read_text())
    srv = start_server("script", stack, app, policy=policy)
    for path in ("/", "/boom", "/console"):
        assert_generic_500(srv.get(path))
    rejected = srv.wait_for_event("secret_key.rejected")
    assert rejected and rejected[0]["reason"] == "known value"
    assert rejected[0]["enforced"] is True
    assert rejected[0]["app"] == "__main__"      # Flask(__name__), run as a script
    assert "dev" not in {str(v) for v in rejected[0].values()}
    forced = srv.events("debug.forced_off")
    assert forced and forced[0]["source"] == "argument"
    assert srv.events("dev_server.used")
    srv.stop()

    # Let the key pass with a warning, to see the rest: generic 500 instead
    # of the debugger, /console is the app's 404, bodies capped.
    policy = policy_with(tmp_path, """
        secret_key = { on_violation = "warn"; };
        body = { max_content_length = 1024; };
        """, name="warn.conf")
    srv = start_server("script", stack, app, policy=policy)
    r = srv.get("/")
    assert r.status == 200 and r.text.startswith("hello, visit 1")
    assert_generic_500(srv.get("/boom"))
    assert srv.get("/console").status == 404
    assert srv.post("/upload", b"x" * 1000).text == "received 1000 bytes\n"
    assert srv.post("/upload", b"x" * 5000).status == 413
    assert srv.events("secret_key.rejected", action="warn")
    assert srv.events("debug.forced_off", source="argument")


# --------------------------------------------------------------------------
# factory_app.py behind each server


def wait_pids(srv, n, timeout=15):
    """How many processes the server has once it has `n` (gunicorn boots
    its workers one after the other), or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while len(srv.pids()) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(srv.pids())


def test_factory_app_with_gunicorn_conf(stack, shield, examples, tmp_path,
                                        run_example):
    policy = policy_with(tmp_path, "body = { max_content_length = 4096; };\n")
    srv = run_example("gunicorn-conf", stack, examples / "factory_app.py",
                      [stack.python, "-m", "gunicorn", "-c",
                       examples / "gunicorn.conf.py"],
                      policy=policy,
                      env={"FLASK_SECRET_KEY": STRONG_KEY, "FLASK_DEBUG": "true"})
    assert_shielded_factory(srv, "gunicorn", 4096)
    assert wait_pids(srv, 3) == 3          # gunicorn.conf.py: 2 workers
    assert srv.events("activate")


def test_factory_app_refuses_a_missing_key(stack, shield, examples, tmp_path,
                                           run_example):
    srv = run_example("gunicorn-conf", stack, examples / "factory_app.py",
                      [stack.python, "-m", "gunicorn", "-c",
                       examples / "gunicorn.conf.py"],
                      policy=policy_with(tmp_path, ""),
                      env={"FLASK_SECRET_KEY": None, "WEB_CONCURRENCY": "1"})
    assert_generic_500(srv.get("/"))
    ev = srv.wait_for_event("secret_key.rejected")
    assert ev and ev[0]["reason"] == "missing" and ev[0]["app"] == "factory_app"
    assert wait_pids(srv, 2) == 2          # WEB_CONCURRENCY=1


def test_waitress_serve_script(stack, shield, examples, tmp_path, run_example):
    policy = policy_with(tmp_path, "body = { max_content_length = 2048; };\n")
    env = no_library_env()
    env.update({"FLASK_SECRET_KEY": STRONG_KEY, "FLASK_DEBUG": "1",
                "PYTHON": stack.python,
                "PATH": "%s:%s" % (shield.build, harness.base_env()["PATH"])})
    # preload=False: the script's own `flaskshield run` loads the library
    srv = run_example("waitress-script", stack, examples / "factory_app.py",
                      ["/bin/sh", examples / "waitress_serve.sh"],
                      policy=policy, env=env, preload=False)
    assert_shielded_factory(srv, "waitress", 2048)
    act = srv.events("activate")
    assert act and act[0]["policy"] == str(policy)


def test_uwsgi_ini(stack, shield, examples, tmp_path, run_example):
    stack.require("uwsgi")
    policy = policy_with(tmp_path, "body = { max_content_length = 4096; };\n")
    srv = run_example("uwsgi-ini", stack, examples / "factory_app.py",
                      ["uwsgi", "--ini", examples / "uwsgi.ini"], policy=policy,
                      env={"FLASK_SECRET_KEY": STRONG_KEY, "FLASK_DEBUG": "true"})
    assert "Starting uWSGI" in srv.stderr_text()   # no SERVER_SOFTWARE in uWSGI
    assert_shielded_factory(srv, None, 4096)
    assert srv.events("activate", attach="Py_Initialize") or \
        srv.events("activate", attach="Py_InitializeEx")


APACHE_PRELUDE = """\
ServerRoot @DIR@
PidFile @DIR@/apache.pid
DefaultRuntimeDir @DIR@
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so
User www-data
Group www-data
ErrorLog @DIR@/error.log
LogLevel info
GracefulShutdownTimeout 2
"""


def test_apache_mod_wsgi_conf(stack, shield, examples, tmp_path, run_example):
    stack.require("apache")
    policy = policy_with(tmp_path, "body = { max_content_length = 4096; };\n")
    site = (examples / "apache-flaskshield.conf").read_text()
    assert "/srv/flaskshield-example" in site and "8080" in site
    site = site.replace("/srv/flaskshield-example", str(examples)) \
               .replace("8080", "@PORT@")
    srv = run_example("apache-conf", stack, examples / "app.wsgi",
                      ["/usr/sbin/apache2", "-f", "{dir}/server.conf",
                       "-DFOREGROUND"],
                      conf_text=APACHE_PRELUDE + site, policy=policy,
                      env={"FLASK_SECRET_KEY": STRONG_KEY, "FLASK_DEBUG": "true"},
                      stop_timeout=3)
    srv.error_log = srv.dir / "error.log"
    assert_shielded_factory(srv, "apache", 4096)
    # served by a mod_wsgi daemon process ("flaskshield-example")
    assert srv.events("activate")


def test_nginx_in_front_of_gunicorn(stack, shield, examples, tmp_path,
                                    run_example):
    if shutil.which("nginx") is None:
        pytest.fail("nginx is not installed", pytrace=False)
    policy = policy_with(tmp_path, "")
    # gunicorn.conf.py with the tutorial key "dev"
    app = run_example("gunicorn-conf", stack, examples / "factory_app.py",
                      [stack.python, "-m", "gunicorn", "-c",
                       examples / "gunicorn.conf.py"], policy=policy,
                      env={"FLASK_SECRET_KEY": "dev", "WEB_CONCURRENCY": "1"})
    conf = (examples / "nginx.conf").read_text()
    assert "server 127.0.0.1:8000;" in conf and "listen 127.0.0.1:8080;" in conf
    conf = conf.replace("127.0.0.1:8000", "127.0.0.1:%d" % app.port) \
               .replace("127.0.0.1:8080", "127.0.0.1:@PORT@")
    conf = re.sub(r"^pid .*;$", "pid @DIR@/nginx.pid;", conf, flags=re.M)
    conf = re.sub(r"^error_log .*;$", "error_log @DIR@/error.log;", conf,
                  flags=re.M)
    conf = re.sub(r"/var/lib/nginx/(\w+);", r"@DIR@/\1;", conf)
    assert "/var/" not in conf and "/run/" not in conf
    nginx = run_example("nginx", stack, examples / "nginx.conf",
                        ["nginx", "-p", "{dir}", "-e", "{dir}/error.log",
                         "-c", "{dir}/server.conf", "-g", "daemon off;"],
                        conf_text=conf, preload=False)
    r = nginx.get("/")
    assert r.headers.get("Server", "").startswith("nginx"), r.headers
    assert_generic_500(r)                            # the weak key, refused
    assert_generic_500(nginx.get("/boom"))
    # nginx's own limit comes first for huge bodies
    assert nginx.post("/upload", b"x" * (17 * 1024 * 1024)).status == 413
    ev = app.wait_for_event("secret_key.rejected")
    assert ev and ev[0]["reason"] == "known value"
    assert ev[0]["app"] == "factory_app"


# --------------------------------------------------------------------------
# Files that are not run


def test_dockerfile_copies_files_that_exist():
    text = (EXAMPLES / "Dockerfile").read_text()
    assert "make deb" in text and "flaskshield enable" in text
    assert re.search(r"^FROM debian:", text, re.M)
    for m in re.finditer(r"^COPY (?!--from)(\S+) ", text, re.M):
        src = m.group(1)
        assert src == "." or (REPO / src).exists(), src


def test_examples_readme_explains_every_file():
    readme = (EXAMPLES / "README.md").read_text()
    for p in EXAMPLES.iterdir():
        if p.name == "README.md" or p.name.startswith("."):
            continue
        name = p.name + ("/" if p.is_dir() else "")
        assert "`%s`" % name in readme or "`%s`" % p.name in readme, p.name
    for p in (EXAMPLES / "policies").iterdir():
        assert p.name in readme, p.name
