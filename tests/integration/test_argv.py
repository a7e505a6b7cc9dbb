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

# (options before the program, environment)
OPTIONS = [
    [], ["-X", "dev"], ["-Xdev"], ["-X", "dev=1"], ["-X", "devx"],
    ["--check-hash-based-pycs", "default", "-X", "dev"],
    ["--check-hash-based-pycs", "default", "-I"],
    ["--check-hash-based-pycs", "-X", "dev"],
    ["-E", "-X", "dev"], ["-EX", "dev"], ["-bEXdev"], ["-I"], ["-E"],
    ["-W", "ignore", "-X", "dev"], ["-Wignore", "-Xdev"], ["-W", "-X", "dev"],
    ["-E-X", "dev"], ["--nosuch", "-X", "dev"], ["--Xdev"], ["-P", "-X", "dev"],
    ["-J", "-X", "dev"], ["--help-env"], ["-", "-X", "dev"], ["--", "-X", "dev"],
    ["-X", "utf8", "-X", "dev"], ["-O", "-X", "faulthandler", "-E"],
]
ENVS = [
    {}, {"PYTHONDEVMODE": "1"}, {"PYTHONDEVMODE": ""}, {"PYTHONMALLOC": "debug"},
    {"PYTHONMALLOC": "malloc"}, {"PYTHONMALLOC": "pymalloc_debug"},
    {"PYTHONMALLOC": "malloc_debug"}, {"PYTHONMALLOC": ""},
    {"PYTHONMALLOC": "default", "PYTHONDEVMODE": "1"},
]


def _cases():
    for opts in OPTIONS:
        for env in (ENVS if opts in ([], ["-E"], ["-I"], ["-X", "dev"],
                                     ["--check-hash-based-pycs", "default", "-I"],
                                     ["-", "-X", "dev"])
                    else ENVS[:2]):
            yield opts, env
    # the program itself after the options: -c, -m, a stdin script
    yield ["-X", "dev"], {}, ["-m", "json.tool", "--help"]
    yield [], {"PYTHONMALLOC": "debug"}, ["-m", "json.tool", "-X", "dev"]
    yield ["-c", "print(1)", "-X", "dev"], {}, []


CASES = [c if len(c) == 3 else (c[0], c[1], None) for c in _cases()]


def _run(python, argv, env, stdin, preload):
    return harness.run_cmd([python] + argv, env=env, input=stdin, text=True,
                           preload=preload, baseline=not preload)


@pytest.mark.parametrize("name", sorted(INTERPRETERS))
def test_argv_matrix_same_as_without_library(name):
    python = INTERPRETERS[name]
    assert os.access(python, os.X_OK), "interpreter of the machine image missing: " + python
    failures = []
    for opts, env, prog in CASES:
        argv = list(opts) + (PRINT if prog is None and "-" not in opts else prog or [])
        stdin = "import sys; print('stdin', sys.flags.dev_mode)\n" if "-" in opts else None
        without = _run(python, argv, env, stdin, preload=False)
        with_lib = _run(python, argv, env, stdin, preload=True)
        got = (with_lib.returncode, with_lib.stdout, with_lib.stderr)
        want = (without.returncode, without.stdout, without.stderr)
        if got != want:
            failures.append("%r env=%r: without %r, with %r"
                            % (argv, env, want, got))
    assert not failures, "\n".join(failures[:10])
    assert len(CASES) > 50
