"""test_library.py -- the shape of the built library (issue 2, items 1, 2, 6).

- no link-time libpython (nor libconfig): no NEEDED entry, no undefined
  Py*/_Py* symbol; the only exported symbols are the interposed interpreter
  entry points;
- the `flaskshield` module exists only with the library: without it the
  import fails as usual on both stacks; with it, status() has the documented
  keys and never carries the application's secret;
- its log lines are valid UTF-8 JSON whatever bytes a policy path holds and
  however long an import name is.
"""

import json
import re
import subprocess

import pytest

import harness

# the interposed entry points (fs_attach.c) and the import function that
# names the unprotectable 3.6/3.7 (fs_unprotected.c)
ENTRY_POINTS = {"Py_Initialize", "Py_InitializeEx", "Py_InitializeFromConfig",
                "Py_Main", "Py_BytesMain", "PyImport_ImportModuleLevelObject"}
STATUS_KEYS = {"version", "attach", "python", "pid", "activated", "policy",
               "patches", "hooks"}


def _tool(argv):
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, (argv, cp.stderr)
    return cp.stdout


def _symbols(out):
    """Symbol names of `nm -D` output (last column, without @VERSION)."""
    return {line.split()[-1].split("@")[0] for line in out.splitlines()
            if line.split()}


def test_no_libpython_needed(shield):
    out = _tool(["readelf", "-d", str(shield.lib)])
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    assert needed, out                     # readelf output parsed at all
    assert "libc.so.6" in needed, needed
    bad = [n for n in needed if "python" in n.lower() or "config" in n.lower()]
    assert bad == [], needed


def test_no_undefined_python_symbols(shield):
    undefined = _symbols(_tool(["nm", "-D", "--undefined-only", str(shield.lib)]))
    assert "dlsym" in undefined, sorted(undefined)   # the run-time lookup
    py = sorted(s for s in undefined if re.match(r"_?Py", s))
    assert py == [], py


def test_exports_only_entry_points(shield):
    defined = _symbols(_tool(["nm", "-D", "--defined-only", str(shield.lib)]))
    extra = defined - ENTRY_POINTS - {"_init", "_fini"}
    assert extra == set(), sorted(extra)
    assert ENTRY_POINTS <= defined, sorted(defined)


def test_import_flaskshield_fails_without_library(stack):
    code = ("try:\n"
            "    import flaskshield\n"
            "except ModuleNotFoundError as e:\n"
            "    print('MNF', e.name)\n"
            "else:\n"
            "    print('IMPORTED')\n")
    cp = harness.run_python(stack, ["-c", code], preload=False)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "MNF flaskshield", cp.stdout
    # and the same program with the library imports it
    cp = harness.run_python(stack, ["-c", code])
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "IMPORTED", cp.stdout


SECRET = "Zq7#vK2m!pR9xL4t@wB6nY8c$hD3jF5g"

STATUS_APP = """
import json, flaskshield
from flask import Flask

app = Flask(__name__)
app.config["SECRET_KEY"] = %r
app.config["SECRET_KEY_FALLBACKS"] = [%r]

@app.route("/")
def index():
    return "ok"

with app.test_client() as c:
    r = c.get("/")
    print("STATUS-CODE", r.status_code)
print("STATUS-JSON", json.dumps(flaskshield.status()))
print("STATUS-REPR", repr(flaskshield.status()))
""" % (SECRET, SECRET[::-1])


def test_status_keys_and_no_secret(stack, tmp_path):
    app = harness.write_app(tmp_path, STATUS_APP, run_main=False)
    cp = harness.run_python(stack, [str(app)], cwd=str(tmp_path))
    assert cp.returncode == 0, cp.stderr
    lines = dict(l.split(" ", 1) for l in cp.stdout.splitlines() if " " in l)
    assert lines["STATUS-CODE"] == "200", cp.stdout + cp.stderr
    st = json.loads(lines["STATUS-JSON"])
    assert set(st) == STATUS_KEYS, sorted(st)
    assert isinstance(st["version"], str) and st["version"]
    # Debian's static python: the constructor; pyenv's: Py_BytesMain
    assert st["attach"] == ("constructor" if stack.name == "debian" else "Py_BytesMain")
    assert st["python"].split()[0] == _python_version(stack)
    assert st["pid"] > 0 and st["activated"] is True
    assert set(st["policy"]) == {"path", "from_file", "mode", "digest",
                                 "generation"}, st["policy"]
    assert st["policy"]["from_file"] is False
    assert len(st["policy"]["digest"]) == 16 and st["policy"]["generation"] == 0
    assert st["policy"]["mode"] == "enforce"
    assert isinstance(st["patches"], list) and st["patches"]
    for p in st["patches"]:
        assert set(p) == {"module", "target"}, p
    assert {"module": "flask.app", "target": "Flask.wsgi_app"} in st["patches"]
    assert isinstance(st["hooks"], dict) and st["hooks"]["flask.app"] == 1
    # the app's secrets were judged (the request went through the guard),
    # yet nothing of them appears in status() or in the log
    for text in (lines["STATUS-JSON"], lines["STATUS-REPR"], cp.stderr):
        assert SECRET not in text and SECRET[::-1] not in text
        assert SECRET[:12] not in text and SECRET[::-1][:12] not in text
    act = harness.find_events(cp.events, "activate")
    assert len(act) == 1 and act[0]["version"] == st["version"], cp.events


def _python_version(stack):
    cp = harness.run_python(stack, ["-c", "import platform; "
                                          "print(platform.python_version())"],
                            preload=False)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.strip()


# --------------------------------------------------------------------------
# Log lines are valid UTF-8 JSON, whatever bytes the policy path, the
# policy's strings or the app's import name hold, and however long they are
# (issue 13: bytes that were not UTF-8 were written raw, and a field that did
# not fit the 2 KiB line left `"new":}` behind).

LOG_CODE = """
import flask
for n in %r:
    app = flask.Flask("n" * n)
    app.config["SECRET_KEY"] = "dev"
    app.config["MAX_CONTENT_LENGTH"] = None
    app.add_url_rule("/", "index", lambda: "ok")
    print(app.test_client().get("/").status_code)
"""
# import names whose lines end just at, and just past, the line's end: one
# of them leaves the room for a string field but not for the int after it
LONG_NAMES = list(range(1850, 2010, 3))


def _flaskshield_lines(stderr):
    """Every line of ours from raw stderr bytes, each decoded strictly and
    parsed as JSON (any failure fails the test)."""
    lines = [l for l in stderr.split(b"\n") if b'"src":"flaskshield"' in l]
    assert lines, stderr[-2000:]
    assert all(len(l) < 2048 for l in lines), max(map(len, lines))
    return [json.loads(l.decode("utf-8", "strict")) for l in lines]


@pytest.mark.parametrize("case", ["path-not-utf8", "long-import-name",
                                  "long-non-utf8-path"])
def test_log_lines_are_utf8_json(stack, tmp_path, case):
    d = tmp_path
    if case != "long-import-name":
        d = tmp_path / (b"\xff\xfe-\xc3(" if case == "path-not-utf8"
                        else b"\xe9" * 200).decode("utf-8", "surrogateescape")
        d.mkdir()
    policy = harness.write_policy(d, 'version = 1;\nmode = "enforce";\n')
    names = LONG_NAMES if case == "long-import-name" else [4]
    env = dict(stack.env_extra)
    env["FLASKSHIELD_POLICY"] = str(policy)
    cp = harness.run_cmd([stack.python, "-c", LOG_CODE % (names,)], env=env,
                         stack=stack)
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert cp.stdout.split() == [b"500"] * len(names), cp.stdout
    events = _flaskshield_lines(cp.stderr)
    kinds = [e["event"] for e in events]
    assert "activate" in kinds and "secret_key.rejected" in kinds, kinds
    # a field that does not fit is left out whole, never half written
    capped = [e for e in events if e["event"] == "body.capped"]
    assert len(capped) >= len(names), names
    assert all(isinstance(e.get("new", 0), int) for e in capped), capped
    assert any("new" in e for e in capped), capped
    if case != "long-import-name":
        act = [e for e in events if e["event"] == "activate"][0]
        if "policy" in act:
            assert "\ufffd" in act["policy"], act
