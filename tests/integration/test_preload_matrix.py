"""test_preload_matrix.py -- the library is invisible to ordinary programs.

A fixed list of programs that have nothing to do with Flask (shells,
coreutils, perl, node, gcc, git, apt-get, nginx -t, python scripts on both
interpreters, including the debug-allocator and isolated modes) runs twice
per way of loading the library, and exit status, stdout and stderr must be
byte-identical:

  env       LD_PRELOAD=<lib> in the environment against no LD_PRELOAD;
  ld.so     inside a private mount namespace (unshare -m) whose /etc is a
            copy with an ld.so.preload naming the library, against the same
            namespace with an empty ld.so.preload.  The host's /etc is never
            touched.

No FLASKSHIELD_POLICY is set: a global preload runs with whatever the
system has.  Positive controls prove each way really loads the library (a
python that imports flask logs `activate`).
"""

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

import harness

PY_SCRIPT = textwrap.dedent('''
    import hashlib, json, os, sqlite3, subprocess, sys, threading, zlib
    d = {"a": [1, 2, 3], "b": {"c": "d\u00e9"}}
    print(json.dumps(d, sort_keys=True))
    print(hashlib.sha256(b"flaskshield").hexdigest())
    print(len(zlib.compress(b"x" * 100000)))
    db = sqlite3.connect(":memory:")
    db.execute("create table t (x)")
    db.executemany("insert into t values (?)", [(i,) for i in range(100)])
    print(db.execute("select sum(x) from t").fetchone()[0])
    out = []
    ts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]
    [t.start() for t in ts]; [t.join() for t in ts]
    print(sorted(out))
    print(subprocess.run(["echo", "child"], capture_output=True, text=True).stdout, end="")
    import email, http.client, urllib.parse, xml.dom.minidom, asyncio, decimal
    print(urllib.parse.quote("a b/c"), decimal.Decimal("1.10") * 3)
    print("warning line", file=sys.stderr)
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
''')

PY_FAIL = "import sys\nsys.setrecursionlimit(100)\ndef f(): f()\nf()\n"

C_SRC = textwrap.dedent('''
    #include <stdio.h>
    int main(void) { int unused; printf("hello from gcc\\n"); return 7; }
''')


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("matrix")
    (d / "script.py").write_text(PY_SCRIPT)
    (d / "fail.py").write_text(PY_FAIL)
    (d / "hello.c").write_text(C_SRC)
    (d / "lines.txt").write_text("".join("%d line\n" % (i * 7919 % 1000)
                                         for i in range(2000)))
    # A git repository with fixed dates, made without the library.
    repo = d / "repo"
    repo.mkdir()
    genv = dict(harness.base_env(), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e",
                GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@e",
                GIT_AUTHOR_DATE="2020-01-01T00:00:00Z",
                GIT_COMMITTER_DATE="2020-01-01T00:00:00Z")
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "."],
                 ["git", "commit", "-q", "-m", "first"]):
        (repo / "f.txt").write_text("one\ntwo\n")
        subprocess.run(argv, cwd=repo, env=genv, check=True, capture_output=True)
    (repo / "f.txt").write_text("one\nthree\n")
    # nginx -t on a private config.
    (d / "nginx").mkdir()
    (d / "nginx" / "nginx.conf").write_text(textwrap.dedent('''
        error_log stderr;
        pid %s/nginx.pid;
        events { worker_connections 16; }
        http { server { listen 127.0.0.1:%d; location / { return 200 "ok"; } } }
    ''' % (d / "nginx", harness.free_port())))
    # The namespace's /etc: a copy with an empty ld.so.preload.
    etc = d / "etc"
    subprocess.run(["cp", "-a", "/etc", str(etc)], check=True)
    (etc / "ld.so.preload").write_text("")
    lst = d / "preload-list"
    lst.write_text(harness.preload_value().replace(" ", "\n") + "\n")
    return d


def programs(d):
    deb, pyenv = harness.DEBIAN_PYTHON, harness.PYENV_PYTHON
    out = [
        ("bash", ["bash", "-c", 'echo out; echo err >&2; for i in 1 2 3; do '
                  'printf "%s-" "$i"; done; echo; echo "${BASH_VERSINFO[0]}"; '
                  'x=$(echo sub); echo "$x"; exit 3'], None),
        ("sh", ["sh", "-c", "echo dash; ls /nonexistent-dir; exit 4"], None),
        ("ls", ["sh", "-c", "ls -l --time-style=+ lines.txt hello.c /usr/share/"
                "common-licenses; ls /"], None),
        ("sort-uniq-wc", ["sh", "-c", "sort -n lines.txt | uniq -c | sort -rn | "
                          "head -5; wc lines.txt"], None),
        ("sha256sum", ["sha256sum", "lines.txt", "hello.c"], None),
        ("date", ["date", "-u", "-d", "@86400", "+%F %T"], None),
        ("cat-missing", ["cat", "no-such-file"], None),
        ("seq-tr-cut", ["sh", "-c", "seq 1 500 | tr 1 x | cut -c1-2 | tail -3"], None),
        ("stdin-sort", ["sort", "-r"], "b\na\nc\n"),
        ("perl", ["perl", "-e", 'use strict; use POSIX qw(floor); print join(",", '
                  'map { floor($_ * 1.5) } 1..5), "\\n"; warn "warned\\n"; exit 2'],
         None),
        ("node", ["node", "-e", 'console.log(JSON.stringify({a: [1, 2]})); '
                  'console.error("to stderr"); process.exitCode = 5'], None),
        ("gcc", ["sh", "-c", "gcc -Wall -o hello hello.c && ./hello; echo rc=$?; "
                 "sha256sum hello; rm -f hello"], None),
        ("git-status", ["git", "-C", "repo", "status", "--porcelain=v1", "-b"], None),
        ("git-log", ["git", "-C", "repo", "log", "--format=%H %an %ad %s"], None),
        ("git-diff", ["git", "-C", "repo", "diff"], None),
        ("git-bad", ["git", "-C", "repo", "no-such-command"], None),
        ("apt-get", ["apt-get", "--version"], None),
        ("nginx-t", ["nginx", "-t", "-e", "stderr", "-p", str(d / "nginx"), "-c",
                     str(d / "nginx" / "nginx.conf")], None),
    ]
    for name, py in (("debian", deb), ("pyenv", pyenv)):
        out += [
            ("py-%s-script" % name, [py, "script.py", "0"], None),
            ("py-%s-exit3" % name, [py, "script.py", "3"], None),
            ("py-%s-traceback" % name, [py, "fail.py"], None),
            ("py-%s-isolated" % name, [py, "-I", "-S", "script.py"], None),
            ("py-%s-devmode" % name, [py, "-X", "dev", "script.py"], None),
            ("py-%s-stdin" % name, [py, "-"], "print(sum(range(10)))\n"),
            ("py-%s-json-tool" % name, [py, "-m", "json.tool"], '{"b": 1, "a": [2]}'),
        ]
    return out


PROGS = [p[0] for p in programs(Path("/tmp"))]


def _get(d, name):
    return next(p for p in programs(d) if p[0] == name)


def _run(argv, env, cwd, stdin):
    cp = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, timeout=120,
                        input=stdin.encode() if stdin is not None else None)
    return cp.returncode, cp.stdout, cp.stderr


def _san_env():
    env = harness.library_env()
    env.pop("LD_PRELOAD")
    return env


def _ns(d, with_lib, argv):
    """argv run in a private mount namespace whose /etc is the copy; with_lib
    binds the preload list over its ld.so.preload."""
    script = 'mount --bind "$1" /etc || exit 90; '
    if with_lib:
        script += 'mount --bind "$2" /etc/ld.so.preload || exit 91; '
    script += 'shift 2; exec "$@"'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
            str(d / "etc"), str(d / "preload-list")] + list(argv)


def _compare(name, a, b):
    assert a[0] == b[0], "%s: exit status %s without, %s with the library\n%s" % (
        name, a[0], b[0], b[2].decode(errors="replace")[-3000:])
    assert a[1] == b[1], "%s: stdout differs\nwithout:\n%r\nwith:\n%r" % (name, a[1], b[1])
    assert a[2] == b[2], "%s: stderr differs\nwithout:\n%r\nwith:\n%r" % (name, a[2], b[2])


@pytest.mark.parametrize("name", PROGS)
def test_env_preload_invisible(work, name, shield):
    """LD_PRELOAD in the environment changes nothing a program shows."""
    _, argv, stdin = _get(work, name)
    base = harness.child_env(preload=False)
    base.update(_san_env())
    lib = dict(base, LD_PRELOAD=harness.preload_value())
    a = _run(argv, base, work, stdin)
    b = _run(argv, lib, work, stdin)
    _compare(name, a, b)


def _ns_usable():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    cp = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                        capture_output=True)
    return cp.returncode == 0


@pytest.fixture(scope="module")
def ns(work):
    if not _ns_usable():
        pytest.fail("unshare -m is not usable here (needs root)", pytrace=False)
    return work


@pytest.mark.parametrize("name", PROGS)
def test_ld_so_preload_invisible(ns, name, shield):
    """/etc/ld.so.preload (in a private mount namespace) changes nothing."""
    _, argv, stdin = _get(ns, name)
    env = harness.child_env(preload=False)
    env.update(_san_env())
    a = _run(_ns(ns, False, argv), env, ns, stdin)
    b = _run(_ns(ns, True, argv), env, ns, stdin)
    _compare(name, a, b)


@pytest.mark.parametrize("pyname", ["debian", "pyenv"])
def test_positive_controls(ns, pyname, shield):
    """Both ways really load the library: importing flask logs `activate`
    (and does not without it), so the comparisons above are not vacuous."""
    py = harness.DEBIAN_PYTHON if pyname == "debian" else harness.PYENV_PYTHON
    argv = [py, "-c", "import flask"]
    env = harness.child_env(preload=False)
    env.update(_san_env())
    plain = _run(argv, env, ns, None)
    via_env = _run(argv, dict(env, LD_PRELOAD=harness.preload_value()), ns, None)
    ns_plain = _run(_ns(ns, False, argv), env, ns, None)
    ns_lib = _run(_ns(ns, True, argv), env, ns, None)
    for res in (plain, ns_plain):
        assert res[0] == 0 and not harness.parse_log(res[2].decode()), res
    for res in (via_env, ns_lib):
        assert res[0] == 0, res
        ev = harness.find_events(harness.parse_log(res[2].decode()), "activate")
        assert len(ev) == 1 and ev[0]["python"].startswith("3.11"), res[2]
    # the host's /etc was not touched
    assert not Path("/etc/ld.so.preload").exists() or \
        Path("/etc/ld.so.preload").read_text() != (ns / "preload-list").read_text()
