"""test_build.py -- the tree and the build (issue 14).

- each artefact carries only what it calls: no function in
  libflaskshield.so or flaskshield is unreachable from the artefact's entry
  points (its dynamic exports, main, the init/fini arrays and every address
  stored in its data), found by walking the disassembly, not by trusting
  the linker's --gc-sections;
- dependencies point one way: core/ includes nothing of shim/ or cli/ and
  calls none of their functions; shim/ and cli/ never include each other;
- touching a header rebuilds exactly the objects whose sources include it
  (directly or through another header), computed here from the #include
  lines, compared with what make would run;
- the standard variables work: CC=clang with WERROR=1 builds warning-free,
  PYTHON_INC= another interpreter's headers builds the library, a folder
  without Python.h stops with one clear line, PREFIX reaches the generated
  header, and clean removes only BUILD.

The make runs happen in a copy of the sources (nothing in the repository is
touched) with their own BUILD folder.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import harness

REPO = harness.REPO
SOURCE_DIRS = ("core", "shim", "cli", "tests/unit")
PYENV_INC = Path("/root/.pyenv/versions/3.11.7/include/python3.11")
# Functions the C runtime and the toolchain put in every executable.
TOOLCHAIN = re.compile(r"^(_|deregister_tm_clones|register_tm_clones|"
                       r"frame_dummy|asan\.|ubsan\.|sancov\.)")


def _out(*argv):
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, (argv, cp.stderr)
    return cp.stdout


# ---------------------------------------------------------------- reachability

def unreachable_functions(path):
    """Functions defined in the ELF file `path` that nothing reaches.

    Roots: the dynamic symbol table's definitions, main/_start/_init/_fini,
    the entries of .init_array/.fini_array, and every function whose
    address a relocation stores in data (method tables, type slots, the
    C-API table's callbacks).  Edges: every symbol an instruction of a
    function names (calls, jumps, address loads), as objdump prints them."""
    funcs = {}
    for line in _out("nm", "--defined-only", str(path)).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tT":
            funcs[parts[2]] = int(parts[0], 16)
    by_addr = {}
    for name, addr in funcs.items():
        by_addr.setdefault(addr, []).append(name)

    edges, current = {}, None
    header = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
    target = re.compile(r"<([^>+]+)(?:\+0x[0-9a-f]+)?>")
    for line in _out("objdump", "-d", "-w", "--no-show-raw-insn",
                     str(path)).splitlines():
        m = header.match(line)
        if m:
            current = m.group(1)
            edges.setdefault(current, set())
        elif current and line.startswith(" "):
            edges[current].update(t for t in target.findall(line) if t != current)

    roots = {"main", "_start", "_init", "_fini"}
    roots.update(line.split()[-1].split("@")[0] for line in
                 _out("nm", "-D", "--defined-only", str(path)).splitlines()
                 if line.split())
    for line in _out("readelf", "-rW", str(path)).splitlines():
        p = line.split()
        if len(p) >= 4 and p[2].endswith("_RELATIVE"):
            roots.update(by_addr.get(int(p[3], 16), ()))
        elif len(p) >= 5 and re.match(r"R_X86_64_(64|GLOB_DAT|JUMP_SLOT)", p[2]):
            roots.add(p[4].split("@")[0])
    for section in (".init_array", ".fini_array"):
        cp = subprocess.run(["objdump", "-s", "-j", section, str(path)],
                            capture_output=True, text=True, timeout=60)
        words = "".join("".join(line.split()[1:5]) for line in
                        cp.stdout.splitlines() if re.match(r"^ [0-9a-f]+ ", line))
        for i in range(0, len(words) - 15, 16):
            addr = int.from_bytes(bytes.fromhex(words[i:i + 16]), "little")
            roots.update(by_addr.get(addr, ()))

    seen, todo = set(), [r for r in roots if r in funcs]
    while todo:
        f = todo.pop()
        if f not in seen:
            seen.add(f)
            todo.extend(t for t in edges.get(f, ()) if t in funcs)
            # aliases: objdump names a call's target by one of the names
            # at its address (__pthread_atfork for pthread_atfork)
            todo.extend(by_addr[funcs[f]])
    return sorted(f for f in funcs if f not in seen and not TOOLCHAIN.match(f))


@pytest.mark.parametrize("artefact", ["libflaskshield.so", "flaskshield"])
def test_artefact_carries_only_what_it_calls(shield, artefact):
    path = shield.build / artefact
    assert not unreachable_functions(path), (
        "%s holds functions it never calls (dead code, or --gc-sections "
        "lost): %s" % (artefact, unreachable_functions(path)))


def test_reachability_check_finds_an_unused_function(tmp_path):
    """The check above can fail: a program with a function nothing calls."""
    src = tmp_path / "p.c"
    src.write_text("static int used(int x) { return x + 1; }\n"
                   "int unused_fn(int x) { return x * 3; }\n"
                   "static int (*const table[])(int) = {used};\n"
                   "int main(int argc, char **argv) { (void)argv; return table[0](argc); }\n")
    _out("gcc", "-O0", "-o", str(tmp_path / "p"), str(src))
    assert unreachable_functions(tmp_path / "p") == ["unused_fn"]


# ---------------------------------------------------------------- direction

def _includes(path):
    return re.findall(r'^\s*#\s*include\s+"([^"]+)"', path.read_text(), re.M)


@pytest.mark.parametrize("folder,forbidden", [
    ("core", ("shim", "cli")), ("shim", ("cli",)), ("cli", ("shim",))])
def test_includes_point_one_way(folder, forbidden):
    bad = []
    for f in sorted((REPO / folder).glob("*.[ch]")):
        for inc in _includes(f):
            bad += ["%s includes %s/%s" % (f.relative_to(REPO), d, inc)
                    for d in forbidden if (REPO / d / inc).exists()]
    assert not bad, bad


def test_core_calls_nothing_of_shim_or_cli(shield):
    archive = shield.build / "libfscore.a"
    defined = set(_out("nm", "--defined-only", "-j", str(archive)).split())
    undefined = {s for s in _out("nm", "-u", "-j", str(archive)).split()
                 if s.startswith("fs_")}
    assert defined and not undefined - defined, undefined - defined


# ---------------------------------------------------------------- make

@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of what make needs, built once (BUILD=b)."""
    root = tmp_path_factory.mktemp("tree")
    for d in SOURCE_DIRS:
        shutil.copytree(REPO / d, root / d)
    shutil.copy(REPO / "Makefile", root / "Makefile")
    make(root, "-j2", "all", *unit_targets(root))
    return root


def unit_targets(root):
    return ["b/" + p.stem for p in sorted((root / "tests/unit").glob("test_*.c"))]


def make(root, *args, check=True):
    """make in the copy, as a fresh command in a small fixed environment:
    none of the variables of a `make SANITIZE=1 test` this suite may run
    under (make exports them to its recipes, and make reads its variables
    from the environment)."""
    env = harness.base_env()
    cp = subprocess.run(["make", "-C", str(root), "BUILD=b", "V=1", *args],
                        capture_output=True, text=True, timeout=900, env=env)
    if check:
        assert cp.returncode == 0, (args, cp.stdout[-3000:], cp.stderr[-3000:])
    return cp


def compiled(output):
    """The sources a make run compiles (its `-c SOURCE` words)."""
    return set(re.findall(r" -c (\S+\.c) ", output))


def dependents(root):
    """header -> the .c files that include it, directly or not."""
    search = [root / d for d in SOURCE_DIRS] + [root / "b/gen"]

    def resolve(name, here):
        for d in [here] + search:
            if (d / name).exists():
                return (d / name).resolve()
        return None

    memo = {}

    def closure(path):
        if path not in memo:
            memo[path] = set()
            for inc in _includes(path):
                h = resolve(inc, path.parent)
                if h is not None:
                    memo[path] |= {h} | closure(h)
        return memo[path]

    deps = {}
    for d in SOURCE_DIRS:
        for c in (root / d).glob("*.c"):
            for h in closure(c.resolve()):
                deps.setdefault(h, set()).add(str(c.relative_to(root)))
    return deps


def test_touching_a_header_rebuilds_exactly_its_dependents(tree):
    targets = ["all"] + unit_targets(tree)
    assert compiled(make(tree, "-n", *targets).stdout) == set(), "not up to date"
    deps = dependents(tree)
    headers = sorted(p.resolve() for d in SOURCE_DIRS for p in (tree / d).glob("*.h"))
    assert len(headers) > 30 and all(h in deps for h in headers), \
        [h.name for h in headers if h not in deps]
    wrong = {}
    for h in headers:
        st = h.stat()
        os.utime(h, (st.st_atime, time.time() + 3600))
        try:
            got = compiled(make(tree, "-n", *targets).stdout)
        finally:
            os.utime(h, (st.st_atime, st.st_mtime))
        if got != deps[h]:
            wrong[h.name] = {"extra": sorted(got - deps[h]),
                             "missing": sorted(deps[h] - got)}
    assert not wrong, wrong


def test_prefix_reaches_the_generated_header_and_its_dependents(tree):
    cp = make(tree, "all", "PREFIX=/opt/fs")
    header = (tree / "b/gen/fs_build.h").read_text()
    assert '"/opt/fs/lib/flaskshield"' in header, header
    built_h = (tree / "b/gen/fs_build.h").resolve()
    want = {c for c in dependents(tree)[built_h] if not c.startswith("tests/")}
    assert compiled(cp.stdout) == want
    assert b"/opt/fs/lib/flaskshield" in (tree / "b/flaskshield").read_bytes()
    cp = make(tree, "all")          # back to the default: rebuilt again
    assert compiled(cp.stdout) == want
    assert compiled(make(tree, "all").stdout) == set()


@pytest.mark.skipif(shutil.which("clang") is None, reason="no clang")
def test_clang_builds_without_warnings(tree):
    cp = make(tree, "-j2", "BUILD=clang-b", "CC=clang", "WERROR=1", "all")
    assert " -Werror" in cp.stdout and "clang " in cp.stdout, cp.stdout[-2000:]
    assert (tree / "clang-b/libflaskshield.so").exists()
    assert "warning:" not in cp.stderr, cp.stderr


@pytest.mark.skipif(not (PYENV_INC / "Python.h").exists(), reason="no pyenv 3.11")
def test_python_inc_chooses_the_headers(tree):
    cp = make(tree, "-j2", "BUILD=pyinc-b", "PYTHON_INC=%s" % PYENV_INC,
              "pyinc-b/libflaskshield.so")
    assert "-I%s " % PYENV_INC in cp.stdout, cp.stdout[-2000:]


def test_python_inc_without_headers_is_one_clear_line(tree, tmp_path):
    cp = make(tree, "BUILD=noinc-b", "PYTHON_INC=%s" % tmp_path,
              "noinc-b/libflaskshield.so", check=False)
    assert cp.returncode != 0
    assert "no Python.h in PYTHON_INC=%s" % tmp_path in cp.stderr, cp.stderr


def test_cppflags_and_ldflags_reach_the_commands(tree):
    cp = make(tree, "-n", "-B", "CPPFLAGS=-DFS_PROBE_CPP", "LDFLAGS=-Wl,-O1",
              "b/flaskshield")
    assert "-DFS_PROBE_CPP" in cp.stdout and "-Wl,-O1" in cp.stdout


def test_clean_removes_only_build(tree):
    (tree / "other-b").mkdir()
    make(tree, "clean", "BUILD=clean-b")
    make(tree, "-j2", "BUILD=clean-b", "clean-b/libfscore.a")
    assert (tree / "clean-b/libfscore.a").exists()
    make(tree, "clean", "BUILD=clean-b")
    assert not (tree / "clean-b").exists()
    assert (tree / "other-b").is_dir() and (tree / "b/libflaskshield.so").exists()
