"""files -- write the apps and policies a test runs, readable by Apache.

App convention: the app file defines a module-level Flask object named ``app``
(``callable=`` to change it).  For kind "script" the file runs its own server;
the harness passes the port in the ``PORT`` environment variable (always, for
every kind), and ``write_app`` appends ``RUN_MAIN`` -- ``app.run(host=
"127.0.0.1", port=int(os.environ["PORT"]))`` under ``if __name__ ==
"__main__"`` -- unless the source already has a ``__main__`` block.
"""

import os
import stat
import tempfile
import textwrap
from pathlib import Path

RUN_MAIN = textwrap.dedent('''
    if __name__ == "__main__":
        import os as _os
        app.run(host="127.0.0.1", port=int(_os.environ["PORT"]))
    ''')


def make_traversable(path, upto=None):
    """Let www-data reach `path`: o+x on it and its parents below `upto`/`/tmp`.

    Apache's children run as www-data and import the app (and the library
    reads the policy) there, so the test's files must be reachable.
    """
    path = Path(path).resolve()
    stop = {Path("/"), Path(tempfile.gettempdir()).resolve()}
    if upto is not None:
        stop.add(Path(upto).resolve())
    p = path if path.is_dir() else path.parent
    while p not in stop and p != p.parent:
        mode = stat.S_IMODE(p.stat().st_mode)
        os.chmod(p, mode | (0o055 if p == path else 0o011))
        p = p.parent


def write_file(directory, name, text, mode=0o644):
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / name
    path.write_text(text if isinstance(text, str) else text.decode())
    os.chmod(path, mode)
    return path


def write_app(directory, source, name="app.py", run_main=True):
    """Write an app module; returns its path (mode 0644, dir 0755).

    `source` is dedented.  Unless it already has a __main__ block (or
    run_main is false), RUN_MAIN is appended so kind "script" works.
    """
    src = textwrap.dedent(source)
    if run_main and "__main__" not in src:
        src = src.rstrip("\n") + "\n" + RUN_MAIN
    path = write_file(directory, name, src)
    os.chmod(path.parent, 0o755)
    return path


def write_policy(directory, text, name="policy.conf", mode=0o644):
    """Write a libconfig policy file (dedented); returns its path.

    The default mode 0644 passes the library's permission check; pass e.g.
    mode=0o666 to test a policy that others can write.
    """
    path = write_file(directory, name, textwrap.dedent(text), mode)
    os.chmod(path.parent, 0o755)
    return path
