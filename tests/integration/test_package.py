"""test_package.py -- the Debian package (`make deb`) and the deployment files.

Issue 18.  `make deb` runs once for the module, into a temporary BUILD
(dpkg-buildpackage on a copy of the tree; nothing written beside the
checkout), and the package is taken apart with dpkg-deb and readelf:
control fields (Depends on libconfig9, which the library dlopen()s and
dpkg-shlibdeps cannot see), the policy as the only conffile, compressed man
pages, a stripped library and command whose debug information is in the
-dbgsym package, the Debian paths compiled in, the maintainer scripts
(prerm disables on removal; nothing enables), the runtime folder
(/run/flaskshield: a tmpfiles.d line, made by postinst without
systemd-tmpfiles), and lintian without errors.
Installing, enabling, serving and removing it in a real Debian 12 root is
`make image-test` (tools/image-test.sh), a CI step of its own.

The deployment files: examples/kubernetes/flask-app.yaml parses (PyYAML),
mounts its ConfigMap at /etc/flaskshield and carries a policy that
`flaskshield check` accepts; the systemd unit and drop-in pass
`systemd-analyze verify` and preload the packaged library; the Dockerfile
installs the package `make deb` names.
"""

import configparser
import fnmatch
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import harness

REPO = harness.REPO
EXAMPLES = REPO / "examples"
LIBRARY = "/usr/lib/flaskshield/libflaskshield.so"


def version():
    return re.search(r"^VERSION\s*:=\s*(\S+)", (REPO / "Makefile").read_text(),
                     re.M).group(1)


def run(argv, **kw):
    return subprocess.run([str(a) for a in argv], capture_output=True,
                          text=True, timeout=kw.pop("timeout", 120), **kw)


class Package:
    def __init__(self, build):
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        stem = "%s_%s" % (version(), arch)
        self.build = build
        self.deb = build / ("flaskshield_%s.deb" % stem)
        self.dbgsym = build / ("flaskshield-dbgsym_%s.deb" % stem)
        self.changes = build / ("flaskshield_%s.changes" % stem)
        self.root = build / "unpacked"
        self.control = build / "control"
        self.debug_root = build / "unpacked-dbgsym"

    def field(self, name):
        return run(["dpkg-deb", "-f", self.deb, name]).stdout.strip()


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    build = tmp_path_factory.mktemp("deb")
    before = sorted(p.name for p in REPO.parent.glob("flaskshield*"))
    # nocheck: the unit tests, which the package build runs, ran in `make
    # test` already; one of them times a load, which fails on a busy host.
    # LINTIAN=: lintian runs in its own test below.  SANITIZE=1 and a
    # MANDIR, PREFIX and SYSCONFDIR of a source install, given to `make
    # deb` (make exports them), must not reach the package's own build
    # (test_debian_paths_are_compiled_in, test_files_...).
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")
    r = run(["make", "--no-print-directory", "-C", REPO, "deb",
             "BUILD=%s" % build, "LINTIAN=", "SANITIZE=1",
             "MANDIR=/opt/man", "PREFIX=/opt/fs", "SYSCONFDIR=/opt/etc"],
            timeout=900, env=env)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    # dpkg-buildpackage wrote into BUILD/deb, not beside the checkout
    assert sorted(p.name for p in REPO.parent.glob("flaskshield*")) == before
    pkg = Package(build)
    for f in (pkg.deb, pkg.dbgsym, pkg.changes):
        assert f.is_file(), "%s not built" % f
    for deb, dest in ((pkg.deb, pkg.root), (pkg.dbgsym, pkg.debug_root)):
        assert run(["dpkg-deb", "-x", deb, dest]).returncode == 0
    assert run(["dpkg-deb", "-e", pkg.deb, pkg.control]).returncode == 0
    return pkg


def test_control_fields(package):
    assert package.field("Package") == "flaskshield"
    assert package.field("Version") == version()
    depends = [d.strip().split()[0] for d in package.field("Depends").split(",")]
    assert "libconfig9" in depends       # dlopen()ed: dpkg-shlibdeps misses it
    assert "libc6" in depends            # and what dpkg-shlibdeps found
    assert package.field("Architecture") == run(
        ["dpkg", "--print-architecture"]).stdout.strip()


def test_files_conffile_and_compressed_man_pages(package):
    listing = run(["dpkg-deb", "-c", package.deb]).stdout
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines()
             if not line.startswith("d")}
    assert {LIBRARY, "/usr/bin/flaskshield", "/etc/flaskshield/policy.conf",
            "/usr/share/man/man1/flaskshield.1.gz",
            "/usr/share/man/man5/flaskshield.conf.5.gz",
            "/usr/share/doc/flaskshield/copyright"} <= files
    assert not [f for f in files if "/man/" in f and not f.endswith(".gz")]
    assert (package.control / "conffiles").read_text().split() == [
        "/etc/flaskshield/policy.conf"]
    policy = package.root / "etc/flaskshield/policy.conf"
    assert policy.read_bytes() == (REPO / "etc/policy.conf").read_bytes()
    assert "-rw-r--r-- root/root" in [l for l in listing.splitlines()
                                      if l.endswith(LIBRARY)][0]


def sections(path):
    out = run(["readelf", "-S", "-W", path]).stdout
    return set(re.findall(r"\]\s+(\.\S+)", out))


def build_id(path):
    out = run(["readelf", "-n", path]).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


@pytest.mark.parametrize("path", [LIBRARY, "/usr/bin/flaskshield"])
def test_stripped_with_debug_info_in_dbgsym(package, path):
    binary = package.root / path.lstrip("/")
    found = sections(binary)
    assert ".dynsym" in found and ".text" in found
    assert not {s for s in found if s.startswith(".debug")}, found
    assert ".symtab" not in found
    bid = build_id(binary)
    debug = package.debug_root / "usr/lib/debug/.build-id" / bid[:2] / (
        bid[2:] + ".debug")
    assert debug.is_file(), "no %s in the -dbgsym package" % debug
    assert ".debug_info" in sections(debug)


def test_debian_paths_are_compiled_in(package, tmp_path):
    cmd = package.root / "usr/bin/flaskshield"
    r = harness.run_cmd([cmd, "status", "--preload-file", tmp_path / "none"],
                        preload=False, text=True,
                        env={"FLASKSHIELD_LIBRARY": None,
                             "FLASKSHIELD_POLICY": None})
    assert r.returncode == 0, r.stderr
    assert re.search(r"^library:      %s( \(not found\))?$" % re.escape(LIBRARY),
                     r.stdout, re.M), r.stdout
    assert "policy:       /etc/flaskshield/policy.conf (" in r.stdout
    lib = (package.root / LIBRARY.lstrip("/")).read_bytes()
    assert b"/etc/flaskshield/policy.conf\0" in lib
    # a plain build: no sanitizer runtime, whatever `make deb` was given
    for path in (LIBRARY, "/usr/bin/flaskshield"):
        needed = run(["readelf", "-d", package.root / path.lstrip("/")]).stdout
        assert "(NEEDED)" in needed and "san.so" not in needed, needed


def test_maintainer_scripts(package):
    prerm = (package.control / "prerm").read_text()
    # `flaskshield disable` on removal, before dpkg deletes the library ...
    remove = re.search(r"^\s*remove\|deconfigure\)(.*?);;", prerm, re.S | re.M)
    assert remove and "flaskshield disable" in remove.group(1)
    assert "--preload-file /etc/ld.so.preload" in remove.group(1)
    # ... but not on upgrade, where the file is replaced in place.
    upgrade = re.search(r"^\s*upgrade\|failed-upgrade\)(.*?);;", prerm,
                        re.S | re.M)
    assert upgrade and "flaskshield" not in upgrade.group(1)
    # Nothing enables the preload by itself (comments may say how to).
    for name in ("preinst", "postinst", "postrm"):
        script = package.control / name
        if script.exists():
            code = "\n".join(l.split("#")[0] for l in
                             script.read_text().splitlines()[1:])
            assert "enable" not in code and "ld.so.preload" not in code, name


def test_runtime_dir_made_at_boot_and_at_install(package):
    """runtime_dir (default /run/flaskshield) exists for apps that run as
    another user: a tmpfiles.d line for every boot, and the postinst makes
    it where no systemd-tmpfiles is installed (containers, chroots)."""
    tmpfiles = package.root / "usr/lib/tmpfiles.d/flaskshield.conf"
    lines = [l for l in tmpfiles.read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    assert lines == ["d /run/flaskshield 1777 root root -"]
    postinst = (package.control / "postinst").read_text()
    assert "systemd-tmpfiles" in postinst and "--create flaskshield.conf" in postinst
    assert re.search(r"^\s*mkdir -m 1777 /run/flaskshield$", postinst, re.M)
    # the default it serves is the one the policy schema ships
    shipped = (REPO / "core/fs_schema.c").read_text()
    assert re.search(r'"runtime_dir".*\n\s*"/run/flaskshield"', shipped)


def test_lintian_reports_no_error(package):
    if shutil.which("lintian") is None:
        pytest.fail("lintian is not installed (tools/install-deps.sh)")
    r = run(["lintian", "--fail-on", "none", "--info", "--pedantic",
             package.changes], timeout=600)
    tags = [l for l in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", l)]
    errors = [l for l in tags if l.startswith("E: ")]
    assert r.returncode == 0, r.stderr
    assert errors == [], "\n".join(tags)
    print("lintian:\n" + "\n".join(tags))


# --------------------------------------------------------------------------
# Deployment files


def test_kubernetes_example(shield, tmp_path):
    docs = list(yaml.safe_load_all(
        (EXAMPLES / "kubernetes/flask-app.yaml").read_text()))
    kinds = {d["kind"]: d for d in docs if d}
    assert set(kinds) == {"ConfigMap", "Deployment"}
    cm, dep = kinds["ConfigMap"], kinds["Deployment"]
    spec = dep["spec"]["template"]["spec"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= \
        dep["spec"]["template"]["metadata"]["labels"].items()
    volume = [v for v in spec["volumes"]
              if v.get("configMap", {}).get("name") == cm["metadata"]["name"]]
    assert len(volume) == 1
    assert volume[0]["configMap"]["defaultMode"] & 0o022 == 0
    mounts = [m for c in spec["containers"] for m in c["volumeMounts"]
              if m["name"] == volume[0]["name"]]
    assert mounts and all(m["mountPath"] == "/etc/flaskshield"
                          and m.get("readOnly") for m in mounts)
    policy = harness.write_policy(tmp_path, cm["data"]["policy.conf"])
    r = harness.run_cmd([shield.cmd, "check", policy], preload=False,
                        text=True)
    assert r.returncode == 0, r.stderr
    assert "ok (mode enforce" in r.stdout


def test_systemd_drop_in(package, tmp_path):
    unit = EXAMPLES / "systemd/flask-app.service"
    drop_in = EXAMPLES / "systemd/flask-app.service.d/flaskshield.conf"
    ini = configparser.ConfigParser(strict=False, interpolation=None)
    ini.optionxform = str
    ini.read_string(drop_in.read_text())
    assert ini.sections() == ["Service"]
    assert ini["Service"]["Environment"] == "LD_PRELOAD=%s" % LIBRARY
    assert (package.root / LIBRARY.lstrip("/")).is_file()
    ini = configparser.ConfigParser(strict=False, interpolation=None)
    ini.read_string(unit.read_text())
    assert "LD_PRELOAD" not in unit.read_text().split("[Service]")[1]
    if shutil.which("systemd-analyze") is None:
        return      # systemd not installed: the parse above is the check
    # The unit path is the examples folder, so the drop-in is read too
    # (a unit given as a file name is verified without its drop-ins).
    r = run(["systemd-analyze", "verify", "flask-app.service"],
            env={"SYSTEMD_UNIT_PATH": "%s:" % unit.parent, "PATH": "/usr/bin:/bin",
                 "SYSTEMD_LOG_LEVEL": "notice"})
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_dockerfile_installs_the_package_make_deb_builds(package):
    text = (EXAMPLES / "Dockerfile").read_text()
    copied = re.search(r"^COPY --from=build /src/build/(\S+) ", text, re.M)
    assert copied and fnmatch.fnmatch(package.deb.name, copied.group(1))
    assert not fnmatch.fnmatch(package.dbgsym.name, copied.group(1))
    build_stage = text.split("\nFROM ")[1]
    needs = re.search(r"Build-Depends: (.*)", (REPO / "debian/control")
                      .read_text()).group(1)
    for dep in needs.split(","):
        name = dep.split()[0].replace("debhelper-compat", "debhelper")
        assert name in build_stage, "the build stage lacks %s" % name
