"""stacks -- the interpreters (with their Flask) the tests run on.

Stacks (``STACKS``, the ids of the ``stack`` fixture):

  debian  /usr/bin/python3 3.11 (static; API exported from the executable),
          Flask/Werkzeug 2.2 from Debian, gunicorn, waitress, uWSGI (python3
          plugin) and Apache mod_wsgi.
  pyenv   pyenv's CPython 3.11.7 (shared libpython), Flask 3.1 in its own
          site-packages.  Debian's gunicorn and waitress are reached through a
          directory holding symlinks to just those two packages, put on
          PYTHONPATH (``Stack.env_extra``), so the interpreter's own Flask wins.
          uWSGI and mod_wsgi embed Debian's libpython: impossible by design.

Other interpreters (``OTHER_PYTHONS``, ``other_python_stack``): pyenv's
CPython 3.8 and 3.9 with Debian's Flask 2.2, 3.10, 3.12 and 3.13 with pyenv
3.11's Flask 3.1 (both pure Python), made importable through a PYTHONPATH
folder of symlinks, with Debian's waitress.
"""

import os
import subprocess
from pathlib import Path

from .errors import HarnessError, Unsupported
from .processes import RUN_TIMEOUT, base_env

PYENV_PYTHON = os.environ.get("FLASKSHIELD_PYENV_PYTHON",
                              "/root/.pyenv/versions/3.11.7/bin/python3")
DEBIAN_PYTHON = "/usr/bin/python3"
DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")
PYENV_VERSIONS = Path("/root/.pyenv/versions")
_SITE311 = PYENV_VERSIONS / "3.11.7/lib/python3.11/site-packages"

# the packages each Flask needs, by (source folder, names)
_FLASK22 = (DIST_PACKAGES, [
    "flask", "Flask-2.2.2.egg-info", "werkzeug", "Werkzeug-2.2.2.egg-info",
    "jinja2", "Jinja2-3.1.2.egg-info", "markupsafe", "MarkupSafe-2.1.2.egg-info",
    "itsdangerous", "itsdangerous-2.1.2.egg-info", "click", "click-8.1.3.egg-info"])
_FLASK31 = (_SITE311, [
    "flask", "flask-3.1.3.dist-info", "werkzeug", "werkzeug-3.1.8.dist-info",
    "jinja2", "jinja2-3.1.6.dist-info", "markupsafe", "markupsafe-3.0.3.dist-info",
    "itsdangerous", "itsdangerous-2.2.0.dist-info", "click", "click-8.4.0.dist-info",
    "blinker", "blinker-1.9.0.dist-info"])
_WAITRESS = (DIST_PACKAGES, ["waitress", "waitress-2.1.2.dist-info"])

# name: (pyenv version, its Flask's packages, the Flask version they hold)
OTHER_PYTHONS = {
    "3.8": ("3.8.18", _FLASK22, "2.2.2"),
    "3.9": ("3.9.18", _FLASK22, "2.2.2"),
    "3.10": ("3.10.13", _FLASK31, "3.1.3"),
    "3.12": ("3.12.1", _FLASK31, "3.1.3"),
    "3.13": ("3.13.0", _FLASK31, "3.1.3"),
}

KINDS = ("gunicorn", "waitress", "uwsgi", "apache", "apache-global",
         "flask-run", "script")
DEBIAN_ONLY_KINDS = ("uwsgi", "apache", "apache-global")
STACKS = ("debian", "pyenv")


class Stack:
    """One interpreter with its Flask.

    name          "debian" or "pyenv"
    python        absolute path of the interpreter
    env_extra     environment every child of this stack gets (PYTHONPATH for
                  pyenv's view of gunicorn/waitress)
    flask_version, werkzeug_version   strings, read from the interpreter
    flask_major   int
    """

    def __init__(self, name, python, env_extra):
        self.name = name
        self.python = python
        self.env_extra = dict(env_extra)
        self.flask_version, self.werkzeug_version = _versions(python, self.env_extra)
        self.flask_major = int(self.flask_version.split(".")[0])

    def supports(self, kind):
        return self.name == "debian" or kind not in DEBIAN_ONLY_KINDS

    def require(self, kind):
        """Skip when `kind` is impossible on this stack by design."""
        if kind not in KINDS:
            raise ValueError("unknown server kind %r" % kind)
        if not self.supports(kind):
            raise Unsupported("%s embeds Debian's libpython3.11; it cannot run "
                              "the %s interpreter (impossible by design)"
                              % (kind, self.name))

    def __repr__(self):
        return "<Stack %s %s flask %s>" % (self.name, self.python, self.flask_version)


def _versions(python, env_extra):
    if not os.access(python, os.X_OK):
        raise HarnessError("interpreter %s is missing" % python)
    code = ("import importlib.metadata as m; "
            "print(m.version('flask'), m.version('werkzeug'))")
    env = base_env()
    env.update(env_extra)
    cp = subprocess.run([python, "-c", code], env=env, capture_output=True,
                        text=True, timeout=RUN_TIMEOUT)
    if cp.returncode != 0:
        raise HarnessError("%s cannot import flask: %s" % (python, cp.stderr))
    flask_v, werkzeug_v = cp.stdout.split()
    return flask_v, werkzeug_v


def pyenv_server_path(root):
    """Make <root>/pyenv-servers: symlinks to Debian's gunicorn and waitress.

    Only those packages are linked, so pyenv's own Flask/Werkzeug stay first.
    gunicorn 20.1 imports pkg_resources at start; pyenv's setuptools provides
    it, and Debian's copy is linked only when the interpreter lacks one.
    """
    d = Path(root) / "pyenv-servers"
    links = ["gunicorn", "waitress"]
    probe = subprocess.run([PYENV_PYTHON, "-c", "import pkg_resources"],
                           env=base_env(), capture_output=True, timeout=RUN_TIMEOUT)
    if probe.returncode != 0:
        links.append("pkg_resources")
    return _link_packages(d, links)


def _link_packages(d, names):
    """Folder d with a symlink to each of Debian's packages `names`."""
    d.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = DIST_PACKAGES / name
        if not src.is_dir():
            raise HarnessError("%s is missing (install the Debian package)" % src)
        dst = d / name
        if not dst.exists():
            dst.symlink_to(src)
    os.chmod(d, 0o755)
    return d


def pyenv_package_env(stack, root, packages):
    """Environment that makes Debian's pure-Python `packages` importable on
    `stack` (a PYTHONPATH folder of symlinks next to pyenv-servers; on the
    Debian stack they already are: {}).

    Only the named packages are linked; their dependencies must already be
    in pyenv's interpreter (sentry_sdk needs urllib3 and certifi, which
    pyenv 3.11 has), so pyenv's own Flask/Werkzeug stay first.
    """
    if stack.name != "pyenv":
        return {}
    d = _link_packages(Path(root) / "pyenv-packages", packages)
    return {"PYTHONPATH": "%s:%s" % (stack.env_extra["PYTHONPATH"], d)}


def make_stack(name, tmp_root):
    if name == "debian":
        return Stack("debian", DEBIAN_PYTHON, {})
    if name == "pyenv":
        path = pyenv_server_path(tmp_root)
        # Debian's gunicorn/waitress directories belong to the system python:
        # do not write pyenv's bytecode into them.
        return Stack("pyenv", PYENV_PYTHON,
                     {"PYTHONPATH": str(path), "PYTHONDONTWRITEBYTECODE": "1"})
    raise ValueError("unknown stack %r" % name)


def other_python_stack(name, root):
    """(Stack, pyenv version) for OTHER_PYTHONS[name], its packages linked
    in <root>/py<name>."""
    version, (src, names), flask_version = OTHER_PYTHONS[name]
    python = PYENV_VERSIONS / version / "bin" / "python3"
    if not os.access(python, os.X_OK):
        raise HarnessError("interpreter of the machine image missing: %s" % python)
    lib = Path(root) / ("py" + name)
    lib.mkdir(exist_ok=True)
    for folder, entries in ((src, names), _WAITRESS):
        for entry in entries:
            if not (folder / entry).exists():
                raise HarnessError("%s is missing" % (folder / entry))
            if not (lib / entry).exists():
                (lib / entry).symlink_to(folder / entry)
    os.chmod(lib, 0o755)
    stack = Stack(name, str(python),
                  {"PYTHONPATH": str(lib), "PYTHONDONTWRITEBYTECODE": "1"})
    if stack.flask_version != flask_version:
        raise HarnessError("%r: Flask %s, not %s" % (stack, stack.flask_version,
                                                     flask_version))
    return stack, version
