"""test_install.py -- make install/uninstall, enable/disable/status, doctor, man pages.

Issue 7.  `make install DESTDIR=... PREFIX=/usr/local` into a temporary
tree (files, modes, the policy.conf.new rule, uninstall), the
`flaskshield enable | disable | status` commands against a temporary preload
file (FLASKSHIELD_PRELOAD_FILE / --preload-file; /etc/ld.so.preload is never
touched), `flaskshield doctor` on both interpreters, and the man pages
(groff clean; every policy setting of the schema documented with its
default).

Issue 18.  `make install` with other paths than the build's rebuilds first
(the generated fs_build.h), so the installed command and library find each
other and the installed policy; `enable` refuses a library that anyone but
root could replace (real files and folders owned by `nobody`, group- or
world-writable, /tmp) and warns about one that is not the installed
library.  A library that `enable` accepts must sit in folders that only
root can write, and the build under test may be under /tmp
(FLASKSHIELD_BUILD): those tests copy it into such a folder (`safe_dir`).
"""

import filecmp
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

import harness

REPO = harness.REPO
SHIPPED_POLICY = REPO / "etc" / "policy.conf"
MAN1 = REPO / "man" / "flaskshield.1"
MAN5 = REPO / "man" / "flaskshield.conf.5"


def cmd_env(extra=None):
    """Environment for running `flaskshield` itself: no library preloaded
    into the command, but a sanitizer runtime (make SANITIZE=1) kept in
    LD_PRELOAD so that the children the command preloads the library into
    can load it."""
    lib = str(harness.library_path())
    env = dict(harness.library_env())
    rest = [e for e in env["LD_PRELOAD"].split() if e != lib]
    env["LD_PRELOAD"] = " ".join(rest) if rest else None
    env["FLASKSHIELD_POLICY"] = None
    env["FLASKSHIELD_PRELOAD_FILE"] = None
    env.update(extra or {})
    return env


def fs(shield, *args, env=None, timeout=120):
    """Run the built `flaskshield` command (text output)."""
    return harness.run_cmd([shield.cmd] + [str(a) for a in args],
                           preload=False, env=cmd_env(env), text=True,
                           timeout=timeout)


def mode_of(path):
    return stat.S_IMODE(Path(path).stat().st_mode)


def root_only(path):
    """Is path, and every folder above it, root's and writable by root
    only (what `flaskshield enable` asks of the library's path)?"""
    for p in [path] + list(path.parents):
        st = p.stat()
        if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return True


# Where a checkout under /tmp (mode 1777) puts its safe folders: root's,
# mode 0755, on every Debian system.
SYSTEM_SAFE = Path("/var/cache/flaskshield-tests")


@pytest.fixture
def safe_dir(shield):
    """A temporary folder, mode 0755, in the first of the build tree and the
    checkout whose folders only root can write (named build-t-* so that git
    ignores it there); for a checkout under /tmp, which is not such a place,
    in /var/cache/flaskshield-tests."""
    parent = next((p for p in (shield.build, REPO) if root_only(p)), None)
    if parent is None:
        SYSTEM_SAFE.mkdir(mode=0o755, exist_ok=True)
        parent = SYSTEM_SAFE
    if not root_only(parent):
        pytest.fail("%s is not in folders only root can write: "
                    "`flaskshield enable` refuses a library there" % parent)
    d = Path(tempfile.mkdtemp(prefix="build-t-", dir=parent))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def safe_lib(shield, safe_dir):
    """A copy of the built library that `enable` accepts (not the installed
    one: it warns)."""
    return copy_library(shield, safe_dir / "lib")


def copy_library(shield, folder, mode=0o644):
    folder.mkdir(parents=True, exist_ok=True)
    lib = folder / "libflaskshield.so"
    shutil.copy(shield.lib, lib)
    lib.chmod(mode)
    return lib


def make(*args):
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO),
         "BUILD=%s" % harness.build_dir()] + list(args),
        capture_output=True, text=True, timeout=300)


# --------------------------------------------------------------------------
# make install / uninstall


def installed(dest):
    return {
        "lib": dest / "usr/local/lib/flaskshield/libflaskshield.so",
        "cmd": dest / "usr/local/bin/flaskshield",
        "man1": dest / "usr/local/share/man/man1/flaskshield.1",
        "man5": dest / "usr/local/share/man/man5/flaskshield.conf.5",
        "policy": dest / "etc/flaskshield/policy.conf",
    }


def test_install_places_every_file_and_uninstall_removes_them(shield, tmp_path):
    dest = tmp_path / "root"
    r = make("install", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert r.returncode == 0, r.stdout + r.stderr
    files = installed(dest)
    modes = {"lib": 0o644, "cmd": 0o755, "man1": 0o644, "man5": 0o644,
             "policy": 0o644}
    for key, path in files.items():
        assert path.is_file(), "%s not installed" % path
        assert mode_of(path) == modes[key], (path, oct(mode_of(path)))
    assert filecmp.cmp(files["lib"], shield.lib, shallow=False)
    assert filecmp.cmp(files["cmd"], shield.cmd, shallow=False)
    assert filecmp.cmp(files["policy"], SHIPPED_POLICY, shallow=False)
    assert filecmp.cmp(files["man1"], MAN1, shallow=False)
    assert filecmp.cmp(files["man5"], MAN5, shallow=False)
    assert not (dest / "etc/flaskshield/policy.conf.new").exists()

    # The installed command runs, validates the installed policy, and finds
    # the installed library when told where it is.
    v = harness.run_cmd([files["cmd"], "--version"], preload=False, text=True)
    assert v.returncode == 0 and v.stdout.startswith("flaskshield "), v.stderr
    c = harness.run_cmd([files["cmd"], "check", files["policy"]], preload=False,
                        text=True)
    assert c.returncode == 0, c.stderr
    assert "ok (mode enforce" in c.stdout
    st = harness.run_cmd([files["cmd"], "status", "--preload-file",
                          tmp_path / "none"], preload=False, text=True,
                         env={"FLASKSHIELD_LIBRARY": files["lib"]})
    assert st.returncode == 0, st.stderr
    assert "library:      %s\n" % files["lib"] in st.stdout
    assert "enabled:      no" in st.stdout

    # Installing again over an unmodified policy changes nothing.
    r2 = make("install", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert "unchanged" in r2.stdout
    assert not (dest / "etc/flaskshield/policy.conf.new").exists()

    u = make("uninstall", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert u.returncode == 0, u.stdout + u.stderr
    for path in files.values():
        assert not path.exists(), "%s left behind" % path
    assert not (dest / "usr/local/lib/flaskshield").exists()
    assert not (dest / "etc/flaskshield").exists()


def test_install_twice_keeps_a_modified_policy(shield, tmp_path):
    dest = tmp_path / "root"
    assert make("install", "DESTDIR=%s" % dest, "PREFIX=/usr/local").returncode == 0
    policy = installed(dest)["policy"]
    edited = policy.read_text().replace('mode = "enforce";', 'mode = "report";')
    assert edited != SHIPPED_POLICY.read_text()
    policy.write_text(edited)

    r = make("install", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert r.returncode == 0, r.stdout + r.stderr
    new = policy.with_name("policy.conf.new")
    assert policy.read_text() == edited            # the operator's file, kept
    assert filecmp.cmp(new, SHIPPED_POLICY, shallow=False)
    assert mode_of(new) == 0o644
    assert "%s.new" % policy in r.stdout           # and it says so

    # uninstall removes the shipped policy.conf.new but keeps the edited one.
    u = make("uninstall", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert u.returncode == 0, u.stdout + u.stderr
    assert policy.read_text() == edited
    assert "kept" in u.stdout
    assert not new.exists()
    assert not installed(dest)["lib"].exists()


def test_uninstall_refuses_while_the_library_is_preloaded(shield, tmp_path):
    dest = tmp_path / "root"
    assert make("install", "DESTDIR=%s" % dest, "PREFIX=/usr/local").returncode == 0
    preload = dest / "etc/ld.so.preload"
    preload.write_text("/usr/local/lib/flaskshield/libflaskshield.so\n")
    u = make("uninstall", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert u.returncode != 0
    assert "flaskshield disable" in u.stderr
    assert all(p.exists() for p in installed(dest).values())
    preload.unlink()
    u = make("uninstall", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert u.returncode == 0, u.stdout + u.stderr
    assert not any(p.exists() for p in installed(dest).values())


# --------------------------------------------------------------------------
# enable / disable / status


def no_temp_files(directory):
    return [p.name for p in Path(directory).iterdir() if ".flaskshield-" in p.name]


def test_enable_disable_keep_other_lines_and_are_idempotent(shield, safe_lib,
                                                            tmp_path):
    lib = str(safe_lib)
    libenv = {"FLASKSHIELD_LIBRARY": lib}
    pf = tmp_path / "ld.so.preload"
    original = "/usr/lib/x86_64-linux-gnu/libother.so\n# keep this comment\n\n"
    pf.write_text(original)
    os.chmod(pf, 0o640)

    r = fs(shield, "enable", "--preload-file", pf, env=libenv)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "check /bin/true: ok" in r.stdout
    assert "probe:     ran" in r.stdout
    assert pf.read_text() == original + lib + "\n"
    assert mode_of(pf) == 0o640                     # the file's own mode kept
    assert no_temp_files(tmp_path) == []

    again = fs(shield, "enable", "--preload-file", pf, env=libenv)
    assert again.returncode == 0, again.stderr
    assert "already enabled" in again.stdout
    assert pf.read_text() == original + lib + "\n"

    st = fs(shield, "status", env=dict(libenv, FLASKSHIELD_PRELOAD_FILE=pf))
    assert st.returncode == 0, st.stderr
    assert "enabled:      yes (line 4: %s)" % lib in st.stdout
    assert "preload file: %s" % pf in st.stdout

    d = fs(shield, "disable", "--preload-file", pf, env=libenv)
    assert d.returncode == 0, d.stderr
    assert pf.read_text() == original
    assert no_temp_files(tmp_path) == []
    d2 = fs(shield, "disable", "--preload-file", pf, env=libenv)
    assert d2.returncode == 0 and "not enabled" in d2.stdout
    assert pf.read_text() == original
    st = fs(shield, "status", "--preload-file", pf, env=libenv)
    assert "enabled:      no" in st.stdout


def test_enable_creates_the_file_0644_and_disable_removes_it(shield, safe_lib,
                                                             tmp_path):
    lib = str(safe_lib)
    pf = tmp_path / "etc" / "ld.so.preload"
    pf.parent.mkdir()
    env = {"FLASKSHIELD_PRELOAD_FILE": pf, "FLASKSHIELD_LIBRARY": lib}
    r = fs(shield, "enable", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert pf.read_text() == lib + "\n"
    assert mode_of(pf) == 0o644
    d = fs(shield, "disable", env=env)
    assert d.returncode == 0, d.stderr
    assert not pf.exists()
    assert list(pf.parent.iterdir()) == []


def test_enable_refuses_a_library_that_does_not_load(shield, safe_dir,
                                                     tmp_path):
    bogus = safe_dir / "libflaskshield.so"
    bogus.write_text("not an ELF object\n")
    pf = tmp_path / "ld.so.preload"
    pf.write_text("/lib/other.so\n")
    r = fs(shield, "enable", "--preload-file", pf,
           env={"FLASKSHIELD_LIBRARY": bogus})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "check /bin/true: FAILED" in r.stdout
    assert "cannot be preloaded" in r.stdout       # the loader's own message
    assert "Not enabled" in r.stderr
    assert pf.read_text() == "/lib/other.so\n"
    # a library that does not exist at all
    r = fs(shield, "enable", "--preload-file", pf,
           env={"FLASKSHIELD_LIBRARY": tmp_path / "missing.so"})
    assert r.returncode == 1
    assert "FLASKSHIELD_LIBRARY" in r.stderr
    assert pf.read_text() == "/lib/other.so\n"


def test_enable_refuses_when_python_check_fails(shield, safe_lib, tmp_path):
    pf = tmp_path / "ld.so.preload"
    r = fs(shield, "enable", "--preload-file", pf, "--python", "/bin/false",
           env={"FLASKSHIELD_LIBRARY": safe_lib})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "check /bin/true: ok" in r.stdout
    assert "probe:     FAILED" in r.stdout
    assert not pf.exists()


def test_enable_refuses_an_invalid_policy(shield, safe_lib, tmp_path):
    pf = tmp_path / "ld.so.preload"
    bad = harness.write_policy(tmp_path, 'version = 1;\nmode = "sometimes";\n')
    r = fs(shield, "enable", "--preload-file", pf,
           env={"FLASKSHIELD_POLICY": bad, "FLASKSHIELD_LIBRARY": safe_lib})
    assert r.returncode == 1
    assert "%s:2:" % bad in r.stderr
    assert "invalid" in r.stderr
    assert not pf.exists()


def test_enable_refuses_another_copy_and_disable_leaves_mixed_lines(shield, tmp_path):
    lib = str(shield.lib.resolve())
    pf = tmp_path / "ld.so.preload"
    pf.write_text("/opt/old/lib/flaskshield/libflaskshield.so\n")
    r = fs(shield, "enable", "--preload-file", pf)
    assert r.returncode == 1
    assert "another copy" in r.stderr
    assert pf.read_text() == "/opt/old/lib/flaskshield/libflaskshield.so\n"
    st = fs(shield, "status", "--preload-file", pf)
    assert st.returncode == 0
    assert "enabled:      no" in st.stdout
    assert "other copy:   line 1: /opt/old" in st.stdout

    mixed = "/lib/a.so %s\n" % lib
    pf.write_text(mixed)
    st = fs(shield, "status", "--preload-file", pf)
    assert "enabled:      yes (line 1: /lib/a.so %s)" % lib in st.stdout
    e = fs(shield, "enable", "--preload-file", pf)
    assert e.returncode == 0 and "already enabled" in e.stdout
    d = fs(shield, "disable", "--preload-file", pf)
    assert d.returncode == 1
    assert "by hand" in d.stderr
    assert pf.read_text() == mixed



STRICT_RULE = ("the library and every folder above it must be owned by root "
               "and writable by root only.  Not enabled.")


def test_enable_refuses_a_library_others_could_replace(shield, safe_dir,
                                                       tmp_path):
    nobody = pwd.getpwnam("nobody").pw_uid
    cases = []
    lib = copy_library(shield, safe_dir / "file-nobody")
    os.chown(lib, nobody, 0)
    cases.append((lib, "the library %s is owned by nobody (uid %d), not root"
                  % (lib, nobody)))
    lib = copy_library(shield, safe_dir / "file-g+w", 0o664)
    cases.append((lib, "the library %s is writable by its group (mode 0664)"
                  % lib))
    lib = copy_library(shield, safe_dir / "file-o+w", 0o646)
    cases.append((lib, "the library %s is writable by others (mode 0646)" % lib))
    folder = safe_dir / "dir-nobody"
    lib = copy_library(shield, folder / "sub")
    os.chown(folder, nobody, 0)
    cases.append((lib, "its folder %s is owned by nobody (uid %d), not root"
                  % (folder, nobody)))
    folder = safe_dir / "dir-g+w"
    lib = copy_library(shield, folder)
    folder.chmod(0o775)
    cases.append((lib, "its folder %s is writable by its group (mode 0775)"
                  % folder))
    # pytest's tmp_path is under /tmp (mode 1777: sticky or not, others
    # may write there)
    open_parent = next(p for p in tmp_path.parents
                       if p.stat().st_mode & stat.S_IWOTH)
    lib = copy_library(shield, tmp_path / "in-tmp")
    cases.append((lib, "its folder %s is writable by others (mode %04o)"
                  % (open_parent, stat.S_IMODE(open_parent.stat().st_mode))))
    # a symbolic link is resolved: the folders of the real file count
    link = safe_dir / "link" / "libflaskshield.so"
    link.parent.mkdir()
    link.symlink_to(lib)
    cases.append((link, "its folder %s is writable by others (mode %04o)"
                  % (open_parent, stat.S_IMODE(open_parent.stat().st_mode))))

    pf = safe_dir / "ld.so.preload"
    pf.write_text("/lib/other.so\n")
    for lib, why in cases:
        r = fs(shield, "enable", "--preload-file", pf,
               env={"FLASKSHIELD_LIBRARY": lib})
        assert r.returncode == 1, (lib, r.stdout, r.stderr)
        assert r.stderr.splitlines() == ["flaskshield enable: %s; %s"
                                         % (why, STRICT_RULE)], r.stderr
        assert r.stdout == ""
        assert pf.read_text() == "/lib/other.so\n"

    # The same copy where only root can write it: enabled, with a warning
    # that it is not the installed library.
    lib = copy_library(shield, safe_dir / "ok")
    r = fs(shield, "enable", "--preload-file", pf,
           env={"FLASKSHIELD_LIBRARY": lib})
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ("flaskshield enable: warning: %s is not the installed "
                        "library (/usr/local/lib/flaskshield/libflaskshield.so)"
                        "\n" % lib)
    assert pf.read_text() == "/lib/other.so\n%s\n" % lib


def test_install_rebuilds_for_other_paths(shield, safe_dir):
    """`make && make install PREFIX=P SYSCONFDIR=E`: the installed command
    finds the library under P and the policy under E, and so does the
    library; enabling it gives no warning."""
    build, prefix, etc = safe_dir / "b", safe_dir / "usr", safe_dir / "etc"
    header = build / "gen/fs_build.h"
    r = make("BUILD=%s" % build)
    assert r.returncode == 0, r.stdout + r.stderr
    assert '#define FS_LIBDIR "/usr/local/lib/flaskshield"' in header.read_text()
    paths = ("BUILD=%s" % build, "PREFIX=%s" % prefix, "SYSCONFDIR=%s" % etc)
    r = make("install", *paths)
    assert r.returncode == 0, r.stdout + r.stderr
    assert '#define FS_LIBDIR "%s/lib/flaskshield"' % prefix in header.read_text()
    assert "  CC      cli/cli_common.c" in r.stdout      # rebuilt
    again = make("install", *paths)
    assert again.returncode == 0 and "  CC " not in again.stdout, again.stdout

    cmd = prefix / "bin/flaskshield"
    lib = prefix / "lib/flaskshield/libflaskshield.so"
    policy = etc / "flaskshield/policy.conf"
    pf = safe_dir / "ld.so.preload"
    st = harness.run_cmd([cmd, "status", "--preload-file", pf], preload=False,
                         text=True, env=cmd_env({"FLASKSHIELD_LIBRARY": None}))
    assert st.returncode == 0, st.stderr
    assert "library:      %s\n" % lib in st.stdout
    assert "policy:       %s (from file" % policy in st.stdout
    probe = harness.run_cmd(
        ["/usr/bin/python3", "-c", "import flask, flaskshield; "
         "print(flaskshield.status()['policy']['path'])"],
        preload=False, text=True,
        env=dict(cmd_env({"FLASKSHIELD_LIBRARY": None}), LD_PRELOAD=str(lib)))
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[0] == str(policy)
    e = harness.run_cmd([cmd, "enable", "--preload-file", pf], preload=False,
                        text=True, env=cmd_env({"FLASKSHIELD_LIBRARY": None}))
    assert e.returncode == 0, e.stdout + e.stderr
    assert e.stderr == ""
    assert pf.read_text() == "%s\n" % lib

    # `check` names the system policy file as every process reads it: its
    # folder writable by a group rejects it, named or not (before: named,
    # it was "ok" while every process ignored it)
    folder = policy.parent
    folder.chmod(0o775)
    try:
        msg = ("%s:0: its folder %s is writable by group or others; the "
               "system policy's folders must be root's alone\n"
               % (policy, folder))
        for args in ([], [str(policy)], [str(folder / "." / "policy.conf")]):
            c = harness.run_cmd([cmd, "check"] + args, preload=False,
                                text=True, env=cmd_env({}))
            assert c.returncode == 1 and msg in c.stderr, (args, c.stderr)
    finally:
        folder.chmod(0o755)
    c = harness.run_cmd([cmd, "check", str(policy)], preload=False, text=True,
                        env=cmd_env({}))
    assert c.returncode == 0, c.stderr
    # and a drop-in of it, named by its path, with its folder's rules
    dropins = folder / "policy.d"
    dropins.mkdir()
    try:
        dropin = dropins / "50-x.conf"
        dropin.write_text("body = { max_content_length = 1000; };\n")
        dropin.chmod(0o644)
        dropins.chmod(0o775)
        msg = ("%s:0: is writable by group or others; the system policy's "
               "folders must be root's alone\n" % dropins)
        for args in ([], [str(dropin)]):
            c = harness.run_cmd([cmd, "check"] + args, preload=False,
                                text=True, env=cmd_env({}))
            assert c.returncode == 1 and msg in c.stderr, (args, c.stderr)
        dropins.chmod(0o755)
        c = harness.run_cmd([cmd, "check", str(dropin)], preload=False,
                            text=True, env=cmd_env({}))
        assert c.returncode == 0, c.stderr
    finally:
        shutil.rmtree(dropins)


def test_status_reports_the_policy_in_force(shield, tmp_path):
    pf = tmp_path / "ld.so.preload"
    strict = harness.write_policy(
        tmp_path, (REPO / "examples/policies/strict.conf").read_text(),
        name="strict.conf")
    report = harness.write_policy(tmp_path, 'version = 1;\nmode = "report";\n',
                                  name="report.conf")
    bad = harness.write_policy(tmp_path, "version = 1;\nbogus = 1;\n",
                               name="bad.conf")
    cases = [
        (strict, "(from file)", "enforce", "yes"),
        (report, "(from file)", "report", "yes"),
        # a file named by FLASKSHIELD_POLICY must exist
        (tmp_path / "absent.conf", "(rejected: built-in defaults)",
         "enforce", "no"),
        (bad, "(rejected: built-in defaults)", "enforce", "no"),
    ]
    for policy, origin, mode, valid in cases:
        r = fs(shield, "status", "--preload-file", pf,
               env={"FLASKSHIELD_POLICY": policy})
        assert r.returncode == 0, r.stderr
        assert "policy:       %s %s" % (policy, origin) in r.stdout, r.stdout
        assert "mode:         %s" % mode in r.stdout
        assert "valid:        %s" % valid in r.stdout
        assert "library:      %s" % shield.lib.resolve() in r.stdout
    assert "bad.conf:2:" in r.stderr
    # no FLASKSHIELD_POLICY: the system file, or the built-in defaults
    r = fs(shield, "status", "--preload-file", pf)
    system = Path("/etc/flaskshield/policy.conf")
    assert r.returncode == 0
    assert "policy:       %s (%s)" % (
        system, "from file" if system.exists()
        else "not present: built-in defaults") in r.stdout, r.stdout


def test_command_usage_errors(shield, tmp_path):
    for args in (["enable", "--preload-file"], ["disable", "extra"],
                 ["status", "--python", "x"], ["doctor", "a", "b"],
                 ["doctor", "--bogus"]):
        r = fs(shield, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
    h = fs(shield, "--help")
    for name in ("enable", "disable", "status", "doctor"):
        assert "\n  %s " % name in h.stdout
    assert "\n  explain [FILE] [--app NAME] [--doc] [--origin] [--builtin]\n" \
        in h.stdout
    # a --dir that is not a folder is an error, not "no process"
    for cmd in ("ps", "metrics"):
        for where, why in ((tmp_path / "missing", "No such file or directory"),
                           (shield.cmd, "not a folder")):
            r = fs(shield, cmd, "--dir", str(where))
            assert r.returncode == 1 and r.stdout == "", (cmd, r.stdout)
            assert r.stderr == "flaskshield %s: %s: %s\n" % (cmd, where, why)


# --------------------------------------------------------------------------
# doctor


def test_doctor_on_each_interpreter(shield, stack, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    r = fs(shield, "doctor", stack.python, env={"TMPDIR": tmpdir})
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "python:      %s" % stack.python in out
    version = harness.run_python(stack, ["-c", "import platform; "
                                         "print(platform.python_version())"],
                                 preload=False).stdout.strip()
    assert "version:     %s (cpython)" % version in out
    if stack.name == "debian":
        assert "libpython:   static" in out
    else:
        assert re.search(r"libpython:   shared \(\S*/libpython3\.\d+\.so", out), out
    assert "api:         exported" in out
    assert "probe:     ran (_flaskshield_probe.flaskshield_runs = 1)" in out
    assert "verdict:     ok" in out
    status = json.loads(re.search(r"^  status:    (\{.*\})$", out, re.M).group(1))
    # Debian's static python: the constructor; pyenv's: Py_BytesMain
    assert status["attach"] == ("constructor" if stack.name == "debian"
                                else "Py_BytesMain")
    assert status["hooks"]["_flaskshield_probe"] == 1
    assert status["activated"] is True
    assert status["python"].split()[0] == version
    # the probe package lived in a temporary folder that is gone again
    assert list(tmpdir.iterdir()) == []


def test_doctor_fails_when_the_library_cannot_attach(shield, tmp_path):
    bogus = tmp_path / "libflaskshield.so"
    bogus.write_text("not an ELF object\n")
    r = fs(shield, "doctor", "/usr/bin/python3",
           env={"FLASKSHIELD_LIBRARY": bogus})
    assert r.returncode == 1, r.stdout
    assert "libpython:   static" in r.stdout        # the first half still ran
    assert "attach:    FAILED" in r.stdout
    assert "verdict:     FAILED" in r.stdout
    r = fs(shield, "doctor", tmp_path / "no-python")
    assert r.returncode == 1
    assert "no such interpreter" in r.stderr


# --------------------------------------------------------------------------
# man pages


def render(page):
    """The page as plain text, on one long line per paragraph."""
    r = subprocess.run(["groff", "-man", "-Tascii", "-rLL=250n", "-P-bcou",
                        str(page)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("page", [MAN1, MAN5], ids=lambda p: p.name)
def test_man_page_renders_without_warnings(page):
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert r.stderr == ""


def schema_defaults(shield):
    """{dotted setting name: default literal} from `explain --builtin`."""
    r = harness.run_cmd([shield.cmd, "explain", "--builtin"], preload=False,
                        text=True)
    assert r.returncode == 0, r.stderr
    out, groups = {}, []        # groups: the open ones, nested
    for line in r.stdout.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s == "};":
            groups.pop()
            continue
        m = re.match(r"(\w+) = (.*?);?$", s)
        assert m, line
        name = ".".join(groups + [m.group(1)])
        if m.group(2) == "{":
            groups.append(m.group(1))
            out[name] = None
            continue
        out[name] = m.group(2)
    return out


def test_conf5_documents_every_setting_with_its_default(shield):
    settings = schema_defaults(shield)
    assert len(settings) >= 20 and "secret_key.min_length" in settings
    text = render(MAN5)
    text = text[text.index("\nSETTINGS\n"):text.index("\nEXAMPLES\n")]
    entries = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^ {7}(\S+)(.*)$", line)
        if m:
            current = m.group(1)
            entries[current] = m.group(2)
        elif current is not None and line.startswith(" " * 8):
            entries[current] += " " + line.strip()
        elif line.strip() == "" or not line.startswith(" "):
            if not line.startswith(" "):
                current = None
    for name, default in settings.items():
        assert name in entries, "%s has no entry in flaskshield.conf.5" % name
        if default is None:
            assert "group" in entries[name], name
            continue
        body = " ".join(entries[name].split())
        assert "default %s" % default in body, (name, default, body)


def test_man1_documents_every_subcommand_and_variable(shield):
    text = render(MAN1)
    h = fs(shield, "--help").stdout
    names = re.findall(r"^  (\w+) ", h, re.M)
    assert set(names) >= {"check", "explain", "run", "enable", "disable",
                          "status", "doctor"}
    for name in names:
        assert "flaskshield %s" % name in text, name
        assert re.search(r"^ {7}%s\b" % name, text, re.M), \
            "no COMMANDS entry for %s" % name
    for var in ("FLASKSHIELD_POLICY", "FLASKSHIELD_LIBRARY",
                "FLASKSHIELD_PRELOAD_FILE"):
        assert re.search(r"^ {7}%s$" % var, text, re.M), var
    for section in ("EXIT STATUS", "ENVIRONMENT", "FILES", "OPTIONS"):
        assert "\n%s\n" % section in text
    for option in ("--preload-file", "--python", "--policy", "--app", "--doc",
                   "--builtin"):
        assert option in text
