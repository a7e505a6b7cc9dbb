"""test_policy_lock.py -- the system policy's lock never opens (issue 15).

A system policy (/etc/flaskshield/policy.conf) that exists but is rejected
must not let FLASKSHIELD_POLICY choose another file: a typo in a file that
says allow_env_override = false would otherwise let any environment pick a
policy with mode = "off".  Each case runs a real interpreter (both stacks)
in a private mount namespace whose /etc is a copy holding the system policy
of the case; the app turns debug on, and FLASKSHIELD_POLICY names a policy
with mode = "off".  What the app then reads tells which policy is in force.
"""

import os
import shutil
import subprocess

import pytest

import harness

APP = """
import flask
app = flask.Flask("locked")
app.debug = True
print("debug=%s" % app.debug)
"""

OFF_POLICY = 'version = 1;\nmode = "off";\n'
CASES = {
    # system policy text (None: no file) -> is the environment's file used?
    "none": (None, True),
    "valid-allows": ('version = 1;\nallow_env_override = true;\n', True),
    "valid-locks": ('version = 1;\nallow_env_override = false;\n', False),
    "typo-locks": ('version = 1;\nallow_env_override = false;\nmdoe = "off";\n', False),
    "typo-allows": ('version = 1;\nallow_env_override = true;\nmode = "of";\n', False),
    "not-a-file": ("<dir>", False),
}


@pytest.fixture(scope="module")
def etc_copy(tmp_path_factory):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.fail("needs root and unshare (private mount namespaces)", pytrace=False)
    cp = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                        capture_output=True)
    if cp.returncode != 0:
        pytest.fail("unshare -m is not usable here: %s" % cp.stderr, pytrace=False)
    d = tmp_path_factory.mktemp("lock")
    subprocess.run(["cp", "-a", "/etc", str(d / "etc")], check=True)
    (d / "etc" / "ld.so.preload").write_text("")
    return d / "etc"


def _set_system_policy(etc, text):
    folder = etc / "flaskshield"
    shutil.rmtree(folder, ignore_errors=True)
    if text is None:
        return
    folder.mkdir(mode=0o755)
    if text == "<dir>":
        (folder / "policy.conf").mkdir()
    else:
        (folder / "policy.conf").write_text(text)
        (folder / "policy.conf").chmod(0o644)


@pytest.mark.parametrize("case", sorted(CASES))
def test_env_policy_only_where_the_system_policy_allows(stack, etc_copy, tmp_path, case):
    system, env_used = CASES[case]
    _set_system_policy(etc_copy, system)
    env_policy = harness.write_policy(tmp_path, OFF_POLICY, name="off.conf")
    app = harness.write_file(tmp_path, "app.py", APP)
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount --bind "$1" /etc || exit 90; shift; exec "$@"', "sh",
            str(etc_copy), stack.python, str(app)]
    cp = harness.run_cmd(argv, policy=env_policy, stack=stack, text=True)
    assert cp.returncode == 0, cp.stderr
    assert ("debug=True" if env_used else "debug=False") in cp.stdout, (case, cp.stdout,
                                                                        cp.stderr)
    ignored = [e for e in cp.events if e.get("event") == "policy.invalid"
               and "FLASKSHIELD_POLICY=%s is ignored" % env_policy in str(e)]
    if system is not None and not env_used and case != "valid-locks":
        assert ignored, (case, cp.events)
    else:
        assert not ignored, (case, cp.events)


# While the process runs (reload_interval = 1): the script, run as root in
# the namespace, edits the system policy itself between requests made with
# Flask's test client (which goes through Flask.wsgi_app, where the reload
# check runs).  The app's key is Flask's tutorial value: refused (500) under
# enforcement, served (200) under the environment's mode = "off".
RUNNING = """
import os, sys, time
import flask
app = flask.Flask("locked")
app.secret_key = "dev"
app.add_url_rule("/", "i", lambda: "ok")
client = app.test_client()
system = "/etc/flaskshield/policy.conf"

def status(label):
    print("%s=%d" % (label, client.get("/").status_code), flush=True)

status("start")
for step in sys.argv[1:]:
    kind, _, arg = step.partition(":")
    if kind == "write":
        path, text = arg.split("=", 1)
        with open(path, "w") as f:
            f.write(text.replace("|", "\\n"))
        os.chmod(path, 0o644)
    elif kind == "rm":
        os.unlink(arg)
    elif kind == "mkdir":
        os.makedirs(arg, mode=0o755, exist_ok=True)
    time.sleep(2.2)
    status(step.split(":")[0] + ":" + step.split(":")[1].split("=")[0])
"""

RUNNING_CASES = {
    # the lock seen shut never opens in a running process: not by a file
    # truncated while it is rewritten, not by a deleted one
    "truncated": ("version = 1;\nreload_interval = 1;\nallow_env_override = false;\n",
                  ["write:/etc/flaskshield/policy.conf=",
                   "rm:/etc/flaskshield/policy.conf"],
                  [500, 500, 500]),
    # a lock added as a system drop-in reaches a process whose policy the
    # environment chose
    "dropin-lock": ("version = 1;\nreload_interval = 1;\nallow_env_override = true;\n",
                    ["mkdir:/etc/flaskshield/policy.d",
                     "write:/etc/flaskshield/policy.d/00-lock.conf="
                     "allow_env_override = false;|"],
                    [200, 200, 500]),
}


@pytest.mark.parametrize("case", sorted(RUNNING_CASES))
def test_lock_while_running(stack, etc_copy, tmp_path, case):
    system, steps, want = RUNNING_CASES[case]
    _set_system_policy(etc_copy, system)
    env_policy = harness.write_policy(tmp_path, OFF_POLICY, name="off.conf")
    script = harness.write_file(tmp_path, "run.py", RUNNING)
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount --bind "$1" /etc || exit 90; shift; exec "$@"', "sh",
            str(etc_copy), stack.python, str(script)] + steps
    cp = harness.run_cmd(argv, policy=env_policy, stack=stack, text=True)
    assert cp.returncode == 0, cp.stderr
    got = [int(line.rsplit("=", 1)[1]) for line in cp.stdout.split()]
    assert got == want, (case, cp.stdout, [e for e in cp.events
                                           if e.get("event", "").startswith("policy")])
