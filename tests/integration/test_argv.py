"""test_argv.py -- the debug-allocator prediction against the real interpreters.

The library registers its audit hook before Py_Initialize only after
predicting, from argv and the environment, which memory allocator CPython
will choose (shim/fs_argv.c); a wrong prediction aborts the process at
exit (status 134), even one that never imports Flask (issue 13:
`--check-hash-based-pycs default -X dev`, `- -X dev`, ...).

Every CPython of the machine image (Debian's static python3 and pyenv's
3.8-3.13) runs a matrix of command lines -- option positions, attached and
separate arguments, long options with and without an argument, an unknown
long option read on as short ones, "-" and "--", -c and -m, each debug
trigger (-X dev, PYTHONDEVMODE, PYTHONMALLOC values, -E/-I hiding the
environment) -- with and without the library: exit status, stdout and
stderr must be the same.
"""

import concurrent.futures
import os

import pytest

import harness

PYENV = "/root/.pyenv/versions"
INTERPRETERS = {
    "debian": "/usr/bin/python3",
    "3.8": PYENV + "/3.8.18/bin/python3",
    "3.9": PYENV + "/3.9.18/bin/python3",
    "3.10": PYENV + "/3.10.13/bin/python3",
    "3.11": PYENV + "/3.11.7/bin/python3",
    "3.12": PYENV + "/3.12.1/bin/python3",
    "3.13": PYENV + "/3.13.0/bin/python3",
}

PRINT = ["-c", "import sys; print('dev', sys.flags.dev_mode)"]
STDIN = "import sys; print('stdin', sys.flags.dev_mode)\n"

# Where a debug trigger on the command line can stand: what comes before
# it.  Options with and without an argument, attached or separate, a long
# option that takes the next word, an unknown long option (read on as
# short options), a reserved one, and the words that end the options: "-"
# (the script from stdin), "--", and the program itself (-c).
POSITIONS = [
    [], ["-b"], ["-W", "ignore"], ["-Wignore"], ["-bW", "ignore"],
    ["--check-hash-based-pycs", "default"], ["--check-hash-based-pycs"],
    ["--nosuch"], ["--Xdev"], ["-J"], ["-P"], ["-"], ["--"],
    ["-c", "import sys; print('c', sys.flags.dev_mode)"],
]
# The debug triggers of the command line (None: none).
ARGV_TRIGGERS = [None, ["-X", "dev"], ["-Xdev"], ["-X", "dev=1"],
                 ["-X", "devx"], ["-bXdev"], ["-EX", "dev"]]
# The environment's triggers, each with what hides it: nothing, -E or -I
# at the start, -E after the position.  ENVS_EDGE (empty values, the other
# spellings, PYTHONMALLOC over -X dev) only at the first position.
ENVS = [{"PYTHONDEVMODE": "1"}, {"PYTHONMALLOC": "debug"},
        {"PYTHONMALLOC": "malloc_debug"},
        {"PYTHONMALLOC": "malloc", "PYTHONDEVMODE": "1"}]
ENVS_EDGE = [{"PYTHONMALLOC": "pymalloc_debug"}, {"PYTHONDEVMODE": ""},
             {"PYTHONMALLOC": "", "PYTHONDEVMODE": "1"},
             {"PYTHONMALLOC": "default", "PYTHONDEVMODE": "1"}]
HIDERS = [None, "-E-first", "-I-first", "-E-after"]


def _argv(position, trigger, hider=None):
    """The command line for one case: options, then the program (unless
    the position already ended the options)."""
    argv = (["-E"] if hider == "-E-first" else
            ["-I"] if hider == "-I-first" else [])
    argv += position + (["-E"] if hider == "-E-after" else []) + (trigger or [])
    if position and position[0] in ("-", "--", "-c"):
        if position[0] == "--":
            argv.append("-")             # the word after "--" is the script
        return argv
    return argv + PRINT


def _cases():
    """(argv, env) for every position with every command-line trigger, and
    every position with every environment trigger under every way to hide
    it; then the command lines of issue 13 and a few more."""
    for position in POSITIONS:
        for trigger in ARGV_TRIGGERS:
            yield _argv(position, trigger), {}
        for env in ENVS:
            for hider in HIDERS:
                yield _argv(position, None, hider), env
    for trigger in ARGV_TRIGGERS:
        yield _argv([], trigger), {"PYTHONMALLOC": "malloc"}
    for env in ENVS_EDGE:
        for hider in HIDERS:
            yield _argv([], None, hider), env
    # issue 13
    yield ["--check-hash-based-pycs", "default", "-X", "dev", "-c", "pass"], {}
    yield (["--check-hash-based-pycs", "default", "-I", "-c", "pass"],
           {"PYTHONMALLOC": "debug"})
    yield ["-", "-X", "dev"], {}
    # -m ends the options too; a Py_DEBUG-style default ("default")
    yield ["-X", "dev", "-m", "json.tool", "--help"], {}
    yield ["-m", "json.tool", "-X", "dev"], {"PYTHONMALLOC": "debug"}
    yield ["-X", "utf8", "-X", "dev"] + PRINT, {}
    yield ["-O", "-X", "faulthandler", "-E"] + PRINT, {"PYTHONDEVMODE": "1"}


CASES = list(_cases())


def _run(python, argv, env, stdin, preload):
    return harness.run_cmd([python] + argv, env=env, input=stdin, text=True,
                           preload=preload, baseline=not preload)


def _one(python, argv, env):
    stdin = STDIN if "-" in argv else None
    without = _run(python, argv, env, stdin, preload=False)
    with_lib = _run(python, argv, env, stdin, preload=True)
    got = (with_lib.returncode, with_lib.stdout, with_lib.stderr)
    want = (without.returncode, without.stdout, without.stderr)
    if got != want:
        return "%r env=%r: without %r, with %r" % (argv, env, want, got)
    return None


@pytest.mark.parametrize("name", sorted(INTERPRETERS))
def test_argv_matrix_same_as_without_library(name):
    python = INTERPRETERS[name]
    assert os.access(python, os.X_OK), "interpreter of the machine image missing: " + python
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: _one(python, *c), CASES))
    failures = [r for r in results if r is not None]
    assert not failures, "%d of %d differ:\n%s" % (
        len(failures), len(CASES), "\n".join(failures[:10]))
    assert len(CASES) > 300
