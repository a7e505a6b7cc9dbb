"""servers -- start, reach and stop a real server of one kind.

Server kinds (``KINDS``): gunicorn, waitress, uwsgi, apache (mod_wsgi embedded
mode, default per-application sub-interpreter), apache-global (embedded,
``WSGIApplicationGroup %{GLOBAL}``), flask-run (``python -m flask --app X
run``), script (``python app.py``).

Cleanup: servers run in their own session (``start_new_session=True``) and are
stopped by signalling the whole process group (SIGTERM, then SIGKILL after a
bounded wait).  Every started server is also kept in a registry that
tests/conftest.py empties at the end of each test (stop_all_servers), so a
test cannot leak a server.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

from .errors import HarnessError
from .http import HTTP_TIMEOUT, http_request
from .logs import find_events, parse_log
from .preload import sanitizer_env_for
from .processes import _killpg, child_env, group_pids

# --------------------------------------------------------------------------
# Timeouts (seconds).  Everything the harness waits for is bounded.

START_TIMEOUT = 20.0     # until the port answers
STOP_TIMEOUT = 5.0       # SIGTERM -> SIGKILL

_used_ports = set()


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (never reused in
    this session, so two servers of one test cannot collide)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port")


_live_servers = []


class ServerExited(AssertionError):
    """The server exited (or never answered) during start.  .server has the
    Server (its .returncode, .stderr_text(), .log_lines())."""

    def __init__(self, msg, server):
        AssertionError.__init__(self, msg)
        self.server = server


class Server:
    """A running server of one kind; use start_server() to make one.

    url, port, kind, stack, app_path, policy, dir (private work dir),
    process (Popen of the leader), returncode (after exit/stop);
    get/post/request -> Response; log_lines(); stderr_text(); pids();
    alive(); stop().  A context manager (stops on exit).
    """

    def __init__(self, kind, stack, app_path, policy, env, preload, extra_args,
                 callable_name, workers):
        self.kind = kind
        self.stack = stack
        self.app_path = Path(app_path).resolve()
        self.policy = policy
        self.preload = preload
        self.extra_args = list(extra_args or [])
        self.callable = callable_name
        self.workers = workers
        self.user_env = dict(env or {})
        self.process = None
        self.returncode = None
        self.forced = False     # stop() needed SIGKILL for the leader
        self.stop_timeout = STOP_TIMEOUT
        self.port = None
        self.dir = Path(tempfile.mkdtemp(prefix="fs-%s-" % kind))
        os.chmod(self.dir, 0o755)
        self.stdout_path = self.dir / "stdout.log"
        self.stderr_path = self.dir / "stderr.log"
        self.error_log = None   # Apache's ErrorLog

    # -- command lines ----------------------------------------------------

    def _argv(self):
        return self._base_argv() + [str(a) for a in self.extra_args]

    def _base_argv(self):
        py = self.stack.python
        mod = self.app_path.stem
        target = "%s:%s" % (mod, self.callable)
        addr = "127.0.0.1:%d" % self.port
        k = self.kind
        if k == "gunicorn":
            return [py, "-m", "gunicorn", "--bind", addr, "--workers",
                    str(self.workers), "--chdir", str(self.app_path.parent),
                    "--graceful-timeout", "2", target]
        if k == "waitress":
            return [py, "-m", "waitress", "--listen=" + addr, target]
        if k == "uwsgi":
            return ["uwsgi", "--plugin", "python3", "--http-socket", addr,
                    "--master", "--processes", str(self.workers),
                    "--wsgi-file", str(self.app_path), "--callable",
                    self.callable, "--need-app", "--die-on-term"]
        if k == "flask-run":
            return [py, "-m", "flask", "--app", target, "run", "--host",
                    "127.0.0.1", "--port", str(self.port)]
        if k == "script":
            return [py, str(self.app_path)]
        if k in ("apache", "apache-global"):
            return ["/usr/sbin/apache2", "-f", str(self._apache_conf()),
                    "-DFOREGROUND"]
        raise ValueError(k)

    def _apache_conf(self):
        """A self-contained Apache config: event MPM, mod_wsgi embedded."""
        for p in [self.app_path] + ([Path(self.policy)] if self.policy else []):
            _check_www_data_readable(p)
        self.error_log = self.dir / "error.log"
        group = "WSGIApplicationGroup %{GLOBAL}\n" if self.kind == "apache-global" else ""
        conf = textwrap.dedent("""\
            ServerRoot {dir}
            ServerName 127.0.0.1
            PidFile {dir}/apache.pid
            DefaultRuntimeDir {dir}
            Listen 127.0.0.1:{port}
            LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
            LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
            LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so
            User www-data
            Group www-data
            ErrorLog {dir}/error.log
            LogLevel info
            StartServers 1
            ServerLimit {workers}
            MinSpareThreads 4
            MaxSpareThreads 16
            ThreadsPerChild 4
            MaxRequestWorkers {threads}
            Timeout 30
            GracefulShutdownTimeout 2
            WSGIScriptAlias / {app}
            WSGICallableObject {callable}
            {group}<Directory {appdir}>
                Require all granted
            </Directory>
            """).format(dir=self.dir, port=self.port, app=self.app_path,
                        appdir=self.app_path.parent, callable=self.callable,
                        group=group, workers=max(1, self.workers),
                        threads=4 * max(1, self.workers))
        path = self.dir / "apache2.conf"
        path.write_text(conf + getattr(self, "apache_extra", ""))
        return path

    # -- life cycle -------------------------------------------------------

    def start(self, wait=True, timeout=START_TIMEOUT, port=None):
        self.port = port or free_port()
        argv = self._argv()
        env = child_env(self.stack, dict({"PORT": self.port}, **self.user_env),
                        self.preload, self.policy)
        env = sanitizer_env_for(argv, env)
        self.argv = argv
        self.env = env
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        try:
            self.process = subprocess.Popen(
                argv, env=env, cwd=str(self.app_path.parent),
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True)
        finally:
            out.close()
            err.close()
        _live_servers.append(self)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        """Wait until the port accepts connections; ServerExited otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            rc = self.process.poll()
            if rc is not None:
                self.returncode = rc
                self.stop()
                raise ServerExited("%s exited with status %s before answering\n%s"
                                   % (self.kind, rc, self.describe()), self)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServerExited("%s did not answer on port %d within %ss\n%s"
                                   % (self.kind, self.port, timeout,
                                      self.describe()), self)
            time.sleep(0.05)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def pids(self):
        """Live pids of the server's process group (leader and workers)."""
        return group_pids(self.process.pid) if self.process else []

    def stop(self, timeout=None):
        """SIGTERM to the whole group, SIGKILL after `timeout`; idempotent.

        Sets .returncode, and .forced if the leader ignored SIGTERM for
        `timeout` seconds.  Known: Apache with the default per-application
        sub-interpreter always needs the SIGKILL, library or not -- its child
        deadlocks in threading._shutdown() while mod_wsgi 4.9.4 destroys the
        sub-interpreter on Python 3.11 (mod_wsgi#730, cpython#122517);
        apache_conf="WSGIDestroyInterpreter Off" avoids it.
        """
        if self.process is None:
            return self.returncode
        if timeout is None:
            timeout = self.stop_timeout
        pgid = self.process.pid
        if self.process.poll() is None:
            _killpg(pgid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.forced = True
        _killpg(pgid, signal.SIGKILL)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        # Apache's www-data children may linger a moment after the leader.
        deadline = time.monotonic() + timeout
        while group_pids(pgid) and time.monotonic() < deadline:
            _killpg(pgid, signal.SIGKILL)
            time.sleep(0.05)
        self.returncode = self.process.returncode
        if self in _live_servers:
            _live_servers.remove(self)
        return self.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- HTTP -------------------------------------------------------------

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def request(self, method, path="/", body=None, headers=None, chunked=False,
                timeout=HTTP_TIMEOUT, **kw):
        return http_request(self.port, method, path, body, headers, chunked,
                            timeout=timeout, **kw)

    def get(self, path="/", headers=None, timeout=HTTP_TIMEOUT):
        return self.request("GET", path, None, headers, timeout=timeout)

    def post(self, path="/", data=b"", headers=None, chunked=False,
             timeout=HTTP_TIMEOUT):
        return self.request("POST", path, data, headers, chunked, timeout=timeout)

    # -- logs -------------------------------------------------------------

    def stderr_text(self):
        """Everything the server wrote to stderr (for Apache, its ErrorLog
        too, after the captured stderr)."""
        parts = [self.stderr_path]
        if self.error_log is not None:
            parts.append(self.error_log)
        text = []
        for p in parts:
            try:
                text.append(p.read_bytes().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(text)

    def stdout_text(self):
        try:
            return self.stdout_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_lines(self):
        """The flaskshield JSON objects the server has logged so far."""
        return parse_log(self.stderr_text())

    def events(self, event=None, **fields):
        return find_events(self.log_lines(), event, **fields)

    def wait_for_event(self, event, timeout=10.0, **fields):
        """Poll the log until an event appears; returns the matches or []."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(event, **fields)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def describe(self):
        return "argv: %s\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(map(str, getattr(self, "argv", []))),
            self.stdout_text()[-4000:], self.stderr_text()[-8000:])

    def cleanup_files(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _check_www_data_readable(path):
    """Fail clearly if Apache's www-data children cannot read `path`."""
    path = Path(path).resolve()
    if path.stat().st_mode & 0o004 == 0:
        raise HarnessError("%s is not world-readable; Apache's children "
                           "(www-data) must read it" % path)
    for d in path.parents:
        if d.stat().st_mode & 0o001 == 0:
            raise HarnessError("%s is not world-traversable; Apache's children "
                               "(www-data) must reach %s (use the tmp_path "
                               "fixture of tests/integration, which allows it)"
                               % (d, path))


def start_server(kind, stack, app_path, policy=None, env=None, preload=True,
                 extra_args=(), callable="app", workers=2, wait=True,
                 timeout=START_TIMEOUT, apache_conf="", stop_timeout=STOP_TIMEOUT):
    """Start a server of `kind` for the app file `app_path`; returns a Server.

    policy      path for FLASKSHIELD_POLICY (None: variable not set)
    env         extra environment (None values remove variables)
    preload     put the library in LD_PRELOAD (fails the test if not built)
    extra_args  appended to the server's command line
    callable    name of the WSGI object in the app module
    workers     gunicorn --workers / uwsgi --processes / Apache ServerLimit
    wait        wait until the port answers (else call .wait_ready())
    apache_conf extra lines appended to the generated Apache config
    stop_timeout  SIGTERM grace before SIGKILL when the server is stopped
    Raises ServerExited if the server exits or does not answer in time.
    Skips only when `kind` is impossible on the stack by design.
    """
    stack.require(kind)
    if kind == "uwsgi" and shutil.which("uwsgi") is None:
        raise HarnessError("uwsgi is not installed (uwsgi-core, "
                           "uwsgi-plugin-python3)")
    if kind.startswith("apache") and not Path(
            "/usr/lib/apache2/modules/mod_wsgi.so").exists():
        raise HarnessError("mod_wsgi is not installed (libapache2-mod-wsgi-py3)")
    srv = Server(kind, stack, app_path, policy, env, preload, extra_args,
                 callable, workers)
    srv.apache_extra = textwrap.dedent(apache_conf)
    srv.stop_timeout = stop_timeout
    last = None
    for _ in range(3):     # a port taken between free_port() and bind: retry
        try:
            return srv.start(wait=wait, timeout=timeout)
        except ServerExited as e:
            last = e
            if "ddress already in use" not in srv.stderr_text():
                raise
    raise last


def stop_all_servers():
    """Stop every server still running; returns how many there were."""
    n = 0
    for srv in list(_live_servers):
        srv.stop()
        n += 1
    return n
