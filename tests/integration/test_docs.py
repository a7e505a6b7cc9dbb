"""The documentation agrees with the program.

README.md carries the policy reference between two markers; it must be
exactly what `flaskshield explain --doc` prints (the schema table's own
rendering), which is also the shipped etc/policy.conf.
"""
import pathlib
import re
import subprocess

import harness

ROOT = pathlib.Path(__file__).resolve().parents[2]


def doc_output():
    return subprocess.run([harness.command_path(), "explain", "--doc"],
                          capture_output=True, text=True, check=True).stdout


def test_readme_policy_reference_is_explain_doc():
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- policy-reference: begin -->\n```\n(.*?)```\n"
                  r"<!-- policy-reference: end -->", text, re.S)
    assert m, "README.md lost its policy-reference markers"
    assert m.group(1) == doc_output()


def test_shipped_policy_is_explain_doc():
    assert (ROOT / "etc" / "policy.conf").read_text() == doc_output()


def test_readme_lists_every_log_event():
    text = (ROOT / "README.md").read_text()
    shim = "".join(p.read_text() for p in (ROOT / "shim").glob("*.c"))
    events = set(re.findall(r'"((?:[a-z_]+)\.[a-z_]+)"', shim))
    events |= set(re.findall(r'fs_log_begin\([^,]+, [A-Z_]+, "([a-z_.]+)"',
                             shim))
    events = {e for e in events if e.split(".")[0] in (
        "policy", "patch", "debug", "debugger", "dev_server", "secret_key",
        "body", "config", "session", "header", "https")} | {"activate"}
    missing = sorted(e for e in events if "`%s`" % e not in text)
    assert not missing, "README.md does not document: %s" % missing
