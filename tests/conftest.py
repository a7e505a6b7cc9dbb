"""conftest.py -- the fixtures of tests/integration and tests/stress (the
machinery is the package tests/harness/).

pytest loads this file for both suites, as it sits in their parent directory;
importing it puts tests/ on sys.path, where `import harness` finds the package.

Fixtures:
  stack          parametrized "debian" / "pyenv": a harness.Stack
  shield         the built library (Shield, below); FAILS the test if missing
  tmp_path       pytest's, made reachable by Apache's www-data children
  start_server   harness.start_server, every server stopped at test teardown
  pyenv_servers  (session) the symlink directory that gives pyenv gunicorn/waitress

Hook: the harness does not import pytest; its HarnessError and Unsupported
are reported as pytest.fail(message, pytrace=False) and pytest.skip(message)
(pytest_runtest_makereport).

Run:  FLASKSHIELD_BUILD=$PWD/build /usr/bin/python3 -m pytest -q tests/integration
(or tests/stress; FLASKSHIELD_BUILD defaults to <repo>/build.)
"""

import shutil
import tempfile
from pathlib import Path

import pytest

import harness


@pytest.fixture(scope="session")
def _session_dir():
    d = Path(tempfile.mkdtemp(prefix="flaskshield-it-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def pyenv_servers(_session_dir):
    return harness.pyenv_server_path(_session_dir)


_stacks = {}


@pytest.fixture(scope="session", params=harness.STACKS)
def stack(request, _session_dir):
    """A harness.Stack: .name, .python, .env_extra, .flask_major, ..."""
    name = request.param
    if name not in _stacks:
        _stacks[name] = harness.make_stack(name, _session_dir)
    return _stacks[name]


class Shield:
    """The library under test: .lib (path), .cmd (the flaskshield command),
    .build (directory), .env(policy=None) (LD_PRELOAD etc.)."""

    def __init__(self):
        self.lib = harness.require_library()
        self.build = harness.build_dir()
        self.cmd = harness.command_path()

    def env(self, policy=None):
        return harness.library_env(policy)


@pytest.fixture
def shield():
    """The built library; fails (does not skip) when it is not built."""
    return Shield()


@pytest.fixture
def tmp_path(tmp_path):
    """pytest's tmp_path, plus o+x on its parents and 0755 on itself, so
    Apache's www-data children can read the app and the policy there."""
    harness.make_traversable(tmp_path)
    return tmp_path


def _as_pytest_outcome(excinfo):
    """The harness does not import pytest: its HarnessError fails the test
    as pytest.fail(message, pytrace=False) does, and its Unsupported skips
    it as pytest.skip(message) does (reported where the harness raised it)."""
    exc = excinfo.value
    if isinstance(exc, harness.Unsupported):
        new = pytest.skip.Exception(str(exc))
    else:
        new = pytest.fail.Exception(str(exc), pytrace=False)
    return pytest.ExceptionInfo.from_exc_info((type(new), new, excinfo.tb))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    if call.excinfo is not None and call.excinfo.errisinstance(
            (harness.HarnessError, harness.Unsupported)):
        call.excinfo = _as_pytest_outcome(call.excinfo)
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "_rep_" + rep.when, rep)


def _failed(node):
    return any(getattr(getattr(node, "_rep_" + w, None), "failed", False)
               for w in ("setup", "call"))


@pytest.fixture
def start_server(request):
    """harness.start_server; every server it started is stopped at teardown
    (whole process group).  Its work directory (config, stderr.log, Apache's
    error.log) is removed if the test passed, and kept (its path printed) if
    it failed."""
    started = []

    def start(*args, **kw):
        try:
            srv = harness.start_server(*args, **kw)
        except harness.ServerExited as e:
            started.append(e.server)
            raise
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
    failed = _failed(request.node)
    for srv in started:
        if failed:
            tr = request.config.pluginmanager.get_plugin("terminalreporter")
            if tr is not None:
                tr.write_line("\n%s: server %s (%s) kept in %s"
                              % (request.node.nodeid, srv.kind, srv.stack.name,
                                 srv.dir))
        else:
            srv.cleanup_files()


@pytest.fixture(autouse=True)
def _no_leaked_servers():
    yield
    harness.stop_all_servers()
