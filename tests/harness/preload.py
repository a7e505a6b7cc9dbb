"""preload -- the environment that loads the library into a child.

Sanitizer builds (make SANITIZE=1 BUILD=build-asan; detected with ldd): the
ASan runtime goes first in LD_PRELOAD with ASAN_OPTIONS/UBSAN_OPTIONS
(``sanitizer_env``), and the baseline of a with/without comparison
(``run_both``, ``baseline=True``) preloads the sanitizer runtimes alone with
the same options (``baseline_env``), so the comparison differs by the library
only; a normal build's baseline, and every plain ``preload=False`` run,
preloads nothing.
``env_words`` gives the same as ``KEY=VALUE`` words for ``env -i``; known
bugs of third-party programs that ASan catches in them are suppressed for
those programs only (``PROGRAM_SUPPRESSIONS``: uWSGI's ini parser).
"""

import atexit
import os
import re
import subprocess
import tempfile

from .paths import library_path, require_library


_sanitizer_preload = None


def sanitizer_runtime():
    """The sanitizer runtimes the library links, in ldd order (e.g.
    [libasan, libubsan] for -fsanitize=address,undefined), or [] for a normal
    build (or when the library is not built yet).

    A sanitizer build (make SANITIZE=1) needs the first of them in the
    preload list before the library, or ASan aborts ("runtime does not come
    first").
    """
    global _sanitizer_preload
    if _sanitizer_preload is None:
        lib = library_path()
        if not lib.is_file():
            return []
        found = []
        try:
            out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True,
                                 timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        for name in ("libasan.so", "libubsan.so"):
            m = re.search(r"\s(%s\S*) => (\S+)" % re.escape(name), out)
            if m:
                found.append(m.group(2))
        _sanitizer_preload = found
    return list(_sanitizer_preload)


def sanitizer_env():
    """The sanitizer options every preloaded child gets ({} in a normal
    build).  Leak detection is off: the interpreters and servers leak at exit
    by design, library or not."""
    if not sanitizer_runtime():
        return {}
    return {
        "ASAN_OPTIONS": os.environ.get(
            "ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0"),
        "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1"),
    }


def preload_value():
    """The LD_PRELOAD value for the library (the sanitizer runtime first)."""
    lib = require_library()
    return " ".join(sanitizer_runtime()[:1] + [str(lib)])


def library_env(policy=None):
    """Environment variables that load the library (and name the policy)."""
    env = {"LD_PRELOAD": preload_value()}
    env.update(sanitizer_env())
    if policy is not None:
        env["FLASKSHIELD_POLICY"] = str(policy)
    return env


def baseline_env():
    """The baseline of a with/without comparison (the run "without the
    library" of run_both, child_env(baseline=True), env_words(False)).

    Normal build: nothing ({}).  Sanitizer build: the sanitizer runtimes
    alone (all of them: the library's ASan and UBSan runtimes, which bring
    their own dependencies), with the same options as the runs with the
    library, so that a comparison differs by the library only (not by what
    the sanitizer runtimes open, print or detect).  Plain preload=False runs
    (servers and programs "without the library") preload nothing at all.
    """
    rt = sanitizer_runtime()
    if not rt:
        return {}
    return dict(sanitizer_env(), LD_PRELOAD=" ".join(rt))


def env_words(preload=True, policy=None):
    """`KEY=VALUE` words for `env -i ... PROGRAM`: the library variables
    (library_env) if preload, else the baseline (baseline_env: none in a
    normal build, the sanitizer runtime and its options in a sanitizer
    build)."""
    env = library_env(policy) if preload else baseline_env()
    return ["%s=%s" % kv for kv in env.items()]


# Known bugs of third-party programs that ASan reports once its runtime is
# preloaded into them (our library is not involved): suppressed for those
# programs only, in sanitizer builds only.
#   uWSGI 2.0.21 (uwsgi-core): the ini parser's magic-variable substitution
#   (magic_sub -> uwsgi_concat3n) memcpy()s past the end of its buffer when
#   an ini file uses %d/%(...) (examples/uwsgi.ini does).
PROGRAM_SUPPRESSIONS = {
    "uwsgi": "interceptor_via_fun:uwsgi_concat3n\n",
}
_suppression_files = {}


def _program_name(argv0):
    name = os.path.basename(str(argv0))
    return "uwsgi" if name.startswith("uwsgi") else name


def sanitizer_env_for(argv, env):
    """`env` adjusted for the program argv[0] in a sanitizer build: adds the
    ASan suppressions of PROGRAM_SUPPRESSIONS when the sanitizer runtime is
    preloaded into it.  Returns `env` unchanged otherwise."""
    rt = sanitizer_runtime()
    if not rt or not argv:
        return env
    text = PROGRAM_SUPPRESSIONS.get(_program_name(argv[0]))
    if text is None or rt[0] not in (env.get("LD_PRELOAD") or "").replace(
            ":", " ").split():
        return env
    path = _suppression_files.get(text)
    if path is None or not os.path.exists(path):
        fd, path = tempfile.mkstemp(prefix="flaskshield-asan-", suffix=".supp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        _suppression_files[text] = path
        atexit.register(_remove, path)
    env = dict(env)
    opts = env.get("ASAN_OPTIONS") or sanitizer_env()["ASAN_OPTIONS"]
    env["ASAN_OPTIONS"] = opts + ":suppressions=" + path
    return env


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass
