"""test_debug.py -- issue 4: debug mode off and the Werkzeug debugger
unreachable, however they were turned on (both stacks, real HTTP).

Every way debug mode or the debugger can be switched on (app.run and its
options, app.debug, config and its loaders, FLASK_DEBUG/FLASK_ENV, the flask
command's flags, run_simple, a DebuggedApplication wrapped by hand) is
started under the library and probed over loopback:

  /          app.debug and config["DEBUG"] read inside a request, the pid of
             the serving process and WERKZEUG_RUN_MAIN (reloader child?)
  /boom      raises an exception whose text carries a marker and a config
             value: the answer must be the generic 500 page, with no
             traceback, exception text, file path or config value
  /console   404, never the Werkzeug console or its PIN prompt
  /?__debugger__=yes&cmd=resource&f=style.css   never the debugger's CSS
  /enable    turns debug on again *after* the first request (same way as the
             case under test); the next requests must still see it off

and the log must carry debug.forced_off (with its source) and
debugger.blocked once per app and process.
"""

import collections
import json
import os
import socket
import textwrap
from pathlib import Path

import pytest

import harness

SECRET = "Q7v!mZ2#kP9x$Lr4&Tn8^Wb3*Hc6@Jd1%Fs5"
EXC_MARK = "FSEXCMARK-7d41c9"
CFG_MARK = "FSCFGMARK-e52a08"
DEBUGGER_MARKERS = ("Werkzeug Debugger", "Console Locked", "Interactive Console",
                    "EVALEX", "__debugger__", "SECRET = ",
                    "font-family: sans-serif; color: #000")

# The app every case starts from.  {pre} runs before the Flask object is
# made, {cls} names its class, {setup} runs at import, {enable} is the body
# of /enable, {main} is the __main__ block (for kind "script").
APP = '''
import json, os, sys
from flask import Flask, current_app, jsonify

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = {secret!r}
EXC_MARK = {exc_mark!r}
CFG_MARK = {cfg_mark!r}

{pre}

app = {cls}(__name__)
app.secret_key = SECRET
app.config["LEAK_CANARY"] = CFG_MARK


class DebugSettings:
    DEBUG = True


def enable():
{enable}


{setup}


@app.route("/")
def index():
    return jsonify(debug=current_app.debug,
                   config_debug=bool(current_app.config.get("DEBUG")),
                   pid=os.getpid(),
                   run_main=os.environ.get("WERKZEUG_RUN_MAIN"))


@app.route("/boom")
def boom():
    raise RuntimeError("%s in %s secret=%s" % (EXC_MARK, HERE,
                                               current_app.config["LEAK_CANARY"]))


@app.route("/enable")
def enable_route():
    enable()
    return "enabled"


@app.route("/status")
def status():
    import flaskshield
    early = sys.modules.get("sitecustomize")
    return jsonify(status=flaskshield.status(),
                   sitecustomize=getattr(early, "__file__", None),
                   early_flask=getattr(early, "EARLY_FLASK", None))

{main}
'''

MAIN_RUN = '''
if __name__ == "__main__":
    {run}
'''


def make_app(directory, setup="", enable=None, main=None, cls="Flask", pre=""):
    """Write the probe app; returns its path."""
    enable_body = textwrap.indent(textwrap.dedent(enable or "pass"), "    ")
    src = APP.format(secret=SECRET, exc_mark=EXC_MARK, cfg_mark=CFG_MARK,
                     pre=textwrap.dedent(pre), cls=cls, enable=enable_body,
                     setup=textwrap.dedent(setup),
                     main=MAIN_RUN.format(run=main) if main else "")
    # settings files for the Config.from_* loaders
    harness.write_file(directory, "settings.cfg", "DEBUG = True\n")
    harness.write_file(directory, "settings.json", json.dumps({"DEBUG": True}))
    return harness.write_app(directory, src, run_main=main is None)


# --------------------------------------------------------------------------
# Observations.


def assert_generic_500(r, app_path, srv=None):
    where = srv.describe() if srv is not None else ""
    assert r.status == 500, (r, where)
    text = r.text
    assert "Internal Server Error" in text, text
    for bad in (EXC_MARK, CFG_MARK, "Traceback", "RuntimeError", "app.py",
                str(Path(app_path).parent), 'File "'):
        assert bad not in text, (bad, text)
    assert_not_debugger(r)


def assert_not_debugger(r):
    text = r.text
    for m in DEBUGGER_MARKERS:
        assert m not in text, (m, r.status, text[:2000])
    assert "text/css" not in (r.headers.get("Content-Type") or ""), r.headers


def assert_console_closed(srv):
    r = srv.get("/console")
    assert r.status == 404, (r.status, r.text[:2000], srv.describe())
    assert_not_debugger(r)
    r = srv.get("/console?__debugger__=yes&cmd=printpin&s=x")
    assert_not_debugger(r)
    r = srv.get("/?__debugger__=yes&cmd=resource&f=style.css")
    assert_not_debugger(r)


def index(srv):
    r = srv.get("/")
    assert r.status == 200, (r, srv.describe())
    return r.json()


def assert_debug_off(srv):
    info = index(srv)
    assert info["debug"] is False and info["config_debug"] is False, info
    return info


def assert_protected(srv, app_path):
    """The whole observable contract of one server."""
    info = assert_debug_off(srv)
    assert_generic_500(srv.get("/boom"), app_path, srv)
    assert_console_closed(srv)
    return info


def assert_single_process(srv, info):
    """No reloader: the leader serves, alone in its group."""
    assert info["run_main"] is None, info
    assert info["pid"] == srv.process.pid, (info, srv.process.pid)
    assert srv.pids() == [srv.process.pid], (srv.pids(), srv.describe())


def once_per_app(srv, event):
    """Every (pid, app) logged `event` at most once; returns the events."""
    evs = srv.events(event)
    counts = collections.Counter((e["pid"], e["app"]) for e in evs)
    assert all(n == 1 for n in counts.values()), (event, evs)
    return evs


def one_event(srv, event, **fields):
    """Exactly one `event` in the log, and it has `fields`."""
    evs = srv.events(event)
    assert len(evs) == 1, (event, evs, srv.stderr_text()[-4000:])
    for k, v in fields.items():
        assert evs[0].get(k) == v, (k, v, evs[0])
    return evs[0]


def no_event(srv, event):
    evs = srv.events(event)
    assert evs == [], (event, evs)


# --------------------------------------------------------------------------
# Config paths under gunicorn (and a few under waitress).  Each case sets
# DEBUG its own way at import and again from /enable after the first
# request.  (setup, enable, env, source)

CONFIG_WAYS = {
    "app.debug": ("app.debug = True", "current_app.debug = True", {}, "config"),
    "config-setitem": ('app.config["DEBUG"] = True',
                       'current_app.config["DEBUG"] = True', {}, "config"),
    "config-update": ("app.config.update(DEBUG=True)",
                      "current_app.config.update(DEBUG=True)", {}, "config"),
    "from_object": ("app.config.from_object(DebugSettings)",
                    "current_app.config.from_object(DebugSettings)", {},
                    "config"),
    "from_object-str": ('app.config.from_object("app.DebugSettings")',
                        'current_app.config.from_object("app.DebugSettings")',
                        {}, "config"),
    "from_pyfile": ('app.config.from_pyfile(os.path.join(HERE, "settings.cfg"))',
                    'current_app.config.from_pyfile(os.path.join(HERE, '
                    '"settings.cfg"))', {}, "config"),
    "from_mapping": ('app.config.from_mapping({"DEBUG": True})',
                     'current_app.config.from_mapping(DEBUG=True)', {},
                     "config"),
    "from_file-json": ('app.config.from_file(os.path.join(HERE, "settings.json"),'
                       ' load=json.load)',
                       'current_app.config.from_file("settings.json", '
                       'load=json.load)', {}, "config"),
    "from_envvar": ('app.config.from_envvar("APP_SETTINGS")',
                    'current_app.config.from_envvar("APP_SETTINGS")',
                    {"APP_SETTINGS": "settings.cfg"}, "config"),
    "from_prefixed_env-custom": ('app.config.from_prefixed_env("MYAPP")',
                                 'current_app.config.from_prefixed_env("MYAPP")',
                                 {"MYAPP_DEBUG": "true"}, "config"),
    "from_prefixed_env-FLASK_DEBUG=1": (
        "app.config.from_prefixed_env()",
        "current_app.config.from_prefixed_env()", {"FLASK_DEBUG": "1"},
        "environment"),
    # 'False' and 'off' are not JSON: from_prefixed_env keeps the string,
    # which is truthy.
    "from_prefixed_env-FLASK_DEBUG=False": (
        "app.config.from_prefixed_env()",
        "current_app.config.from_prefixed_env()", {"FLASK_DEBUG": "False"},
        "environment"),
    "from_prefixed_env-FLASK_DEBUG=off": (
        "app.config.from_prefixed_env()",
        "current_app.config.from_prefixed_env()", {"FLASK_DEBUG": "off"},
        "environment"),
    "dict.__setitem__": ('dict.__setitem__(app.config, "DEBUG", True)',
                         'dict.__setitem__(current_app.config, "DEBUG", True)',
                         {}, "config"),
    "dict.update": ('dict.update(app.config, DEBUG=True)',
                    'dict.update(current_app.config, DEBUG=True)', {},
                    "config"),
}


def check_config_way(srv, app_path, source, env):
    # the first request: the import-time setting is corrected
    assert_protected(srv, app_path)
    ev = one_event(srv, "debug.forced_off", source=source, enforced=True,
                   app="app")
    assert "via" not in ev or ev["via"] is None, ev
    # the app turns debug on again after the first request
    r = srv.get("/enable")
    assert r.status == 200 and r.text == "enabled", r
    assert_protected(srv, app_path)
    r = srv.get("/enable")
    assert r.status == 200, r
    assert_generic_500(srv.get("/boom"), app_path, srv)
    assert_debug_off(srv)
    # still once per app
    one_event(srv, "debug.forced_off")
    once_per_app(srv, "debugger.blocked")


@pytest.mark.parametrize("way", list(CONFIG_WAYS))
def test_config_debug_gunicorn(stack, way, tmp_path, start_server):
    """Every config way, at import and after the first request, under
    gunicorn: debug off in every request, generic 500, no console."""
    setup, enable, env, source = CONFIG_WAYS[way]
    app = make_app(tmp_path, setup=setup, enable=enable)
    srv = start_server("gunicorn", stack, app, env=env, workers=1)
    check_config_way(srv, app, source, env)


@pytest.mark.parametrize("way", ["app.debug", "config-setitem",
                                 "dict.__setitem__", "from_prefixed_env-FLASK_DEBUG=off"])
def test_config_debug_waitress(stack, way, tmp_path, start_server):
    setup, enable, env, source = CONFIG_WAYS[way]
    app = make_app(tmp_path, setup=setup, enable=enable)
    srv = start_server("waitress", stack, app, env=env)
    check_config_way(srv, app, source, env)


# --------------------------------------------------------------------------
# The environment at app creation.


def test_flask_debug_env_gunicorn(stack, tmp_path, start_server):
    """FLASK_DEBUG=1: make_config turns DEBUG on at creation."""
    app = make_app(tmp_path)
    srv = start_server("gunicorn", stack, app, env={"FLASK_DEBUG": "1"},
                       workers=1)
    assert_protected(srv, app)
    one_event(srv, "debug.forced_off", source="environment", enforced=True)


def test_flask_env_development_gunicorn(stack, tmp_path, start_server):
    """FLASK_ENV=development: debug on in Flask 2.2 (forced off and logged);
    ignored by Flask 2.3+ (nothing to correct, nothing logged)."""
    app = make_app(tmp_path)
    srv = start_server("gunicorn", stack, app,
                       env={"FLASK_ENV": "development"}, workers=1)
    assert_protected(srv, app)
    if stack.flask_major < 3:
        one_event(srv, "debug.forced_off", source="environment", enforced=True)
    else:
        no_event(srv, "debug.forced_off")


@pytest.mark.parametrize("var", ["FLASK_DEBUG=1", "FLASK_ENV=development",
                                 "FLASK_DEBUG=false"])
def test_debug_env_app_run(stack, var, tmp_path, start_server):
    """`python app.py` ending in app.run() with debug from the environment:
    the config Flask makes already has DEBUG off (logged once, where it
    was found: no `via`), and Flask.run runs no reloader.  Where Flask
    itself leaves debug off (FLASK_DEBUG=false; FLASK_ENV on Flask 2.3+)
    there is nothing to correct, and no debug.forced_off may be logged."""
    k, v = var.split("=")
    app = make_app(tmp_path, main='app.run(host="127.0.0.1", '
                                  'port=int(os.environ["PORT"]))')
    srv = start_server("script", stack, app, env={k: v})
    info = assert_protected(srv, app)
    assert_single_process(srv, info)
    if var == "FLASK_DEBUG=false" or (k == "FLASK_ENV" and stack.flask_major >= 3):
        no_event(srv, "debug.forced_off")
    else:
        one_event(srv, "debug.forced_off", source="environment", via=None,
                  enforced=True)


# --------------------------------------------------------------------------
# Flask.run and its subclasses (kind "script").

RUNS = {
    "run-debug": ('app.run(debug=True, host="127.0.0.1", '
                  'port=int(os.environ["PORT"]))', "Flask", False),
    "run-debugger-reloader": ('app.run(use_debugger=True, use_reloader=True, '
                              'use_evalex=True, host="127.0.0.1", '
                              'port=int(os.environ["PORT"]))', "Flask", True),
    "subclass-super-run": ('app.run(host="127.0.0.1", '
                           'port=int(os.environ["PORT"]))', "MyFlask", False),
}

SUBCLASS = '''
class MyFlask(Flask):
    def run(self, *args, **kwargs):
        kwargs["debug"] = True
        return super().run(*args, **kwargs)
'''


@pytest.mark.parametrize("case", list(RUNS))
def test_app_run(stack, case, tmp_path, start_server):
    main, cls, debugger = RUNS[case]
    app = make_app(tmp_path, main=main, cls=cls, pre=SUBCLASS,
                   enable="current_app.debug = True")
    srv = start_server("script", stack, app)
    info = assert_protected(srv, app)
    assert_single_process(srv, info)
    one_event(srv, "debug.forced_off", source="argument", via="Flask.run",
              enforced=True, app="__main__")
    if debugger:
        one_event(srv, "debugger.blocked", source="argument", via="Flask.run",
                  enforced=True, app="__main__")
    else:
        once_per_app(srv, "debugger.blocked")
    # and after the first request
    assert srv.get("/enable").status == 200
    assert_protected(srv, app)
    one_event(srv, "debug.forced_off")
    assert srv.pids() == [srv.process.pid]


# --------------------------------------------------------------------------
# The flask command.

FLASK_CLI = {
    "flask run --debug": (["run", "--debug"], "debug"),
    "flask --debug run": (["--debug", "run"], "debug"),
    "flask run --debugger": (["run", "--debugger"], "debugger"),
}


class ArgvServer(harness.Server):
    """A harness Server with a command line of our own (the flask command's
    group options go before `run`, which the flask-run kind cannot say)."""

    def __init__(self, make_argv, *args):
        harness.Server.__init__(self, *args)
        self._make_argv = make_argv

    def _argv(self):
        return self._make_argv(self)


def start_flask_cli(stack, app_path, words, preload=True):
    def argv(srv):
        return ([stack.python, "-m", "flask", "--app", "app:app"] + words
                + ["--host", "127.0.0.1", "--port", str(srv.port)])
    srv = ArgvServer(argv, "flask-run", stack, app_path, None, {}, preload, (),
                     "app", 1)
    return srv.start(wait=False)


def flask_cli_baseline(stack, app_path, words):
    """What the command does WITHOUT the library: (debug in a request,
    /console is the debugger, reloader child serves)."""
    srv = start_flask_cli(stack, app_path, words, preload=False)
    try:
        srv.wait_ready()
        info = index(srv)
        console = srv.get("/console")
        return (info["debug"], "Werkzeug Debugger" in console.text,
                info["run_main"] == "true")
    finally:
        srv.stop()
        srv.cleanup_files()


@pytest.mark.parametrize("case", list(FLASK_CLI))
def test_flask_cli(stack, case, tmp_path):
    words, what = FLASK_CLI[case]
    app = make_app(tmp_path)
    if case == "flask run --debug" and stack.flask_version.startswith("2.2.") \
            and int(stack.flask_version.split(".")[2]) < 3:
        # `run --debug` exists from Flask 2.2.3 on: 2.2.2 refuses the option
        # before serving (click usage error), so this way cannot turn debug
        # on there; the library does not change that.
        srv = start_flask_cli(stack, app, words)
        try:
            assert srv.process.wait(20) == 2, srv.describe()
            assert "No such option: --debug" in srv.stderr_text()
            no_event(srv, "debug.forced_off")
        finally:
            srv.stop()
            srv.cleanup_files()
        return
    base_debug, base_console, base_reloader = flask_cli_baseline(stack, app, words)
    # without the library the debugger answers /console in every case but
    # one: Flask 3.1.3 with click 8.4 loses the group-level `flask --debug`
    # (run's own --debug/--no-debug default rewrites FLASK_DEBUG=0), so
    # `flask --debug run` serves with debug off there even unprotected.
    broken_group_debug = (case == "flask --debug run" and not base_debug)
    if not broken_group_debug:
        assert base_console, "baseline: %s should open the debugger" % case
        assert base_reloader == (what == "debug"), case
        assert base_debug == (what == "debug"), case
    srv = start_flask_cli(stack, app, words)
    try:
        srv.wait_ready()
        info = assert_protected(srv, app)
        assert_single_process(srv, info)
        if broken_group_debug:
            no_event(srv, "debug.forced_off")
            no_event(srv, "debugger.blocked")
        elif what == "debug":
            one_event(srv, "debug.forced_off", source="cli", enforced=True)
            one_event(srv, "debugger.blocked", source="cli", enforced=True)
        else:
            # --debugger alone: debug stays off by itself, the debugger is
            # what gets blocked
            no_event(srv, "debug.forced_off")
            one_event(srv, "debugger.blocked", source="cli", via="run_simple",
                      enforced=True)
    finally:
        srv.stop()
        srv.cleanup_files()


# --------------------------------------------------------------------------
# werkzeug.serving.run_simple called directly.

PLAIN_WSGI = '''
import json, os
from werkzeug.serving import run_simple

EXC_MARK = {exc_mark!r}
CFG_MARK = {cfg_mark!r}


def app(environ, start_response):
    path = environ.get("PATH_INFO")
    if path == "/boom":
        raise RuntimeError("%s secret=%s" % (EXC_MARK, CFG_MARK))
    if path == "/":
        body = json.dumps({{"debug": False, "config_debug": False,
                           "pid": os.getpid(),
                           "run_main": os.environ.get("WERKZEUG_RUN_MAIN")}})
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


if __name__ == "__main__":
    run_simple("127.0.0.1", int(os.environ["PORT"]), app, use_debugger=True,
               use_reloader=True, use_evalex=True)
'''


@pytest.mark.parametrize("target", ["flask-app", "plain-wsgi"])
def test_run_simple_direct(stack, target, tmp_path, start_server):
    if target == "flask-app":
        app = make_app(tmp_path, main=(
            'from werkzeug.serving import run_simple\n'
            '    app.debug = True\n'
            '    run_simple("127.0.0.1", int(os.environ["PORT"]), app, '
            'use_debugger=True, use_reloader=True, use_evalex=True)'))
        name = "__main__"
    else:
        app = harness.write_app(tmp_path, PLAIN_WSGI.format(
            exc_mark=EXC_MARK, cfg_mark=CFG_MARK))
        name = None
    srv = start_server("script", stack, app)
    info = assert_protected(srv, app)
    assert_single_process(srv, info)
    ev = one_event(srv, "debugger.blocked", source="argument", via="run_simple",
                   enforced=True, app=name)
    evs = srv.events("debug.forced_off")
    once_per_app(srv, "debug.forced_off")
    if target == "flask-app":
        # app.debug = True before run_simple: corrected by the property's
        # setter, where it was set (same app: one line)
        one_event(srv, "debug.forced_off", source="config", enforced=True,
                  app=name)
    else:
        assert any(e.get("via") == "run_simple" and e["source"] == "argument"
                   and e["enforced"] is True and e["app"] == name
                   for e in evs), evs
    assert ev["pid"] == srv.process.pid


# --------------------------------------------------------------------------
# DebuggedApplication wrapped by hand.

WRAP_WSGI_APP = '''
from werkzeug.debug import DebuggedApplication
app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)
'''

WRAP_APP = '''
from werkzeug.debug import DebuggedApplication
application = DebuggedApplication(app, evalex=True)
'''


@pytest.mark.parametrize("pin", ["pin", "WERKZEUG_DEBUG_PIN=off"])
@pytest.mark.parametrize("kind,wrap", [("script", "wsgi_app"),
                                       ("gunicorn", "wsgi_app"),
                                       ("gunicorn", "app")])
def test_debugged_application_by_hand(stack, kind, wrap, pin, tmp_path,
                                      start_server):
    env = {"WERKZEUG_DEBUG_PIN": "off"} if pin != "pin" else {}
    app = make_app(tmp_path, setup=WRAP_WSGI_APP if wrap == "wsgi_app"
                   else WRAP_APP)
    srv = start_server(kind, stack, app, env=env, workers=1,
                       callable="app" if wrap == "wsgi_app" else "application")
    info = assert_protected(srv, app)
    if kind == "script":
        assert_single_process(srv, info)
    # the debugger's own resources are never served, whatever the path
    for path in ("/console?__debugger__=yes&cmd=resource&f=style.css",
                 "/?__debugger__=yes&cmd=resource&f=debugger.js",
                 "/boom?__debugger__=yes&cmd=resource&f=style.css"):
        r = srv.get(path)
        assert_not_debugger(r)
        assert "window.addEventListener" not in r.text, path
    one_event(srv, "debugger.blocked", source="DebuggedApplication",
              enforced=True, app="__main__" if kind == "script" else "app")
    no_event(srv, "debug.forced_off")


CALLED_BY_NAME = '''
import flask
from werkzeug.debug import DebuggedApplication
from werkzeug.test import EnvironBuilder

app = flask.Flask("byname")
app.config["SECRET_KEY"] = "kV3x9Qm2Lp7Zr4Tn8Wb1Yc6Hd5Jf0Gs"
dbg = DebuggedApplication(app, evalex=True)
orig = DebuggedApplication.__call__

def sdk(self, *args, **kwargs):
    """An SDK's or a middleware's wrapper of the class's __call__."""
    return orig(self, *args, **kwargs)

calls = [
    ("positional", lambda e, s: orig(dbg, e, s)),
    ("wrapper", lambda e, s: sdk(dbg, e, s)),
    ("named", lambda e, s: orig(dbg, environ=e, start_response=s)),
    ("bound-named", lambda e, s: dbg.__call__(environ=e, start_response=s)),
    ("all-named", lambda e, s: orig(self=dbg, environ=e, start_response=s)),
]
for label, call in calls:
    out = []
    env = EnvironBuilder(path="/console").get_environ()
    body = b"".join(call(env, lambda st, h, e=None: out.append(st)))
    print(label, out[0].split()[0], "Werkzeug Debugger" in body.decode())
'''


def test_debugged_application_called_with_keywords(stack):
    """DebuggedApplication.__call__ reached the way SDK wrappers and
    middleware call an original (`orig(self, *args, **kwargs)`: an empty
    **kwargs arrives as an empty dict) or with its arguments by name:
    each of these served the debugger's console; now each goes to the app
    like a plain call."""
    cp = harness.run_python(stack, ["-c", CALLED_BY_NAME])
    assert cp.returncode == 0, cp.stderr[-3000:]
    labels = ["positional", "wrapper", "named", "bound-named", "all-named"]
    assert cp.stdout.splitlines() == [l + " 404 False" for l in labels], \
        cp.stdout
    assert any(e.get("event") == "debugger.blocked" for e in cp.events), \
        cp.events


# --------------------------------------------------------------------------
# Flask imported before the library attached (sitecustomize).

SITECUSTOMIZE = '''
import sys
import flask
EARLY_FLASK = "flask.app" in sys.modules
'''


@pytest.mark.parametrize("kind", ["script", "gunicorn"])
def test_flask_imported_from_sitecustomize(stack, kind, tmp_path, start_server):
    site = tmp_path / "site"
    harness.write_file(site, "sitecustomize.py", textwrap.dedent(SITECUSTOMIZE))
    os.chmod(site, 0o755)
    path = [str(site)] + [p for p in [stack.env_extra.get("PYTHONPATH")] if p]
    appdir = tmp_path / "app"
    if kind == "script":
        app = make_app(appdir, main='app.run(debug=True, host="127.0.0.1", '
                                    'port=int(os.environ["PORT"]))')
    else:
        app = make_app(appdir, setup="app.debug = True")
    srv = start_server(kind, stack, app, env={"PYTHONPATH": ":".join(path)},
                       workers=1)
    r = srv.get("/status")
    assert r.status == 200, srv.describe()
    st = r.json()
    # our sitecustomize ran, and imported Flask before the app (and before
    # the library's finder)
    assert st["sitecustomize"] == str(site / "sitecustomize.py"), st
    assert st["early_flask"] is True, st
    targets = {(p["module"], p["target"]) for p in st["status"]["patches"]}
    assert ("flask.app", "Flask.wsgi_app") in targets, st
    assert ("flask.app", "Flask.run") in targets, st
    assert st["status"]["activated"] is True, st
    info = assert_protected(srv, app)
    if kind == "script":
        assert_single_process(srv, info)
        one_event(srv, "debug.forced_off", source="argument", via="Flask.run")
    else:
        one_event(srv, "debug.forced_off", source="config")


# --------------------------------------------------------------------------
# Policies: debugger = "allow", mode = "report", mode = "off".


def test_debugger_allow_leaves_debugged_application(stack, tmp_path, start_server):
    """debug.debugger = "allow": a hand-wrapped DebuggedApplication answers
    /console with the debugger page, while debug itself is still forced off."""
    policy = harness.write_policy(tmp_path, 'debug = { debugger = "allow"; };\n')
    app = make_app(tmp_path, setup="app.debug = True\n" + WRAP_WSGI_APP)
    srv = start_server("gunicorn", stack, app, policy=policy, workers=1)
    assert_debug_off(srv)
    r = srv.get("/console")
    assert r.status == 200, (r.status, r.text[:2000])
    assert "Werkzeug Debugger" in r.text and "Interactive Console" in r.text, r.text
    r = srv.get("/?__debugger__=yes&cmd=resource&f=style.css")
    assert r.status == 200 and "text/css" in r.headers.get("Content-Type", ""), r
    one_event(srv, "debug.forced_off", source="config", enforced=True)
    no_event(srv, "debugger.blocked")
    assert_generic_500(srv.get("/boom"), app, srv)   # debug off: Flask's 500


def test_mode_report_changes_nothing(stack, tmp_path, start_server):
    """mode = "report": app.run(debug=True) keeps debug on (and its reloader);
    the same events are logged with enforced=false."""
    policy = harness.write_policy(tmp_path, 'mode = "report";\n')
    app = make_app(tmp_path, main='app.run(debug=True, host="127.0.0.1", '
                                  'port=int(os.environ["PORT"]))')
    srv = start_server("script", stack, app, policy=policy)
    info = index(srv)
    assert info["debug"] is True and info["config_debug"] is True, info
    # the reloader ran: the request was served by its child
    assert info["run_main"] == "true", info
    assert info["pid"] != srv.process.pid and len(srv.pids()) >= 2, info
    evs = once_per_app(srv, "debug.forced_off")
    assert evs and all(e["enforced"] is False and e["mode"] == "report"
                       for e in evs), evs
    assert any(e["source"] == "argument" and e.get("via") == "Flask.run"
               for e in evs), evs
    assert all(e.get("enforced") is not True for e in srv.log_lines()), \
        srv.log_lines()
    # debug really is on: the debugger shows the exception
    r = srv.get("/boom")
    assert r.status == 500 and EXC_MARK in r.text, r


def test_mode_off_does_nothing(stack, tmp_path, start_server):
    policy = harness.write_policy(tmp_path, 'mode = "off";\n')
    app = make_app(tmp_path, main='app.run(debug=True, host="127.0.0.1", '
                                  'port=int(os.environ["PORT"]))')
    srv = start_server("script", stack, app, policy=policy)
    info = index(srv)
    assert info["debug"] is True, info
    assert info["run_main"] == "true", info
    events = {e["event"] for e in srv.log_lines()}
    assert events <= {"activate"}, srv.log_lines()


# --------------------------------------------------------------------------
# The original finding: an app ending in app.run(debug=True), weak key
# "dev", no body limit (examples/vulnerable_app.py, inline).

VULNERABLE = '''
import os
from flask import Flask, current_app, jsonify, request

app = Flask(__name__)
app.secret_key = "dev"
app.config["LEAK_CANARY"] = {cfg_mark!r}


@app.route("/")
def index():
    return jsonify(debug=current_app.debug, pid=os.getpid(),
                   run_main=os.environ.get("WERKZEUG_RUN_MAIN"))


@app.route("/boom")
def boom():
    raise RuntimeError({exc_mark!r} + current_app.config["LEAK_CANARY"])


@app.route("/upload", methods=["POST"])
def upload():
    return str(len(request.get_data()))


if __name__ == "__main__":
    app.run(debug=True, port=int(os.environ["PORT"]))
'''


def test_original_finding(stack, tmp_path, start_server):
    app = harness.write_app(tmp_path, VULNERABLE.format(cfg_mark=CFG_MARK,
                                                        exc_mark=EXC_MARK))
    # 1. built-in strict defaults (no policy file): the weak key is refused,
    # every request gets the generic 500, debug and the reloader are off.
    srv = start_server("script", stack, app)
    for path in ("/", "/boom", "/console"):
        r = srv.get(path)
        assert_generic_500(r, app, srv)
    assert srv.pids() == [srv.process.pid], srv.pids()
    names = [e["event"] for e in srv.log_lines()]
    for ev in ("activate", "policy.default", "debug.forced_off",
               "dev_server.used", "secret_key.rejected"):
        assert names.count(ev) == 1, (ev, srv.log_lines())
    one_event(srv, "debug.forced_off", source="argument", via="Flask.run",
              enforced=True, app="__main__")
    ev = one_event(srv, "secret_key.rejected", key="SECRET_KEY",
                   action="refuse", enforced=True)
    assert ev["reason"] in ("known value", "too short"), ev
    assert any(e["key"] == "MAX_CONTENT_LENGTH" and e["old"] is None
               and e["new"] == 16777216 for e in srv.events("body.capped")), \
        srv.log_lines()
    srv.stop()

    # 2. the key only warned about: the app serves, with debug off.
    policy = harness.write_policy(tmp_path, 'secret_key = { on_violation = "warn"; };\n')
    srv = start_server("script", stack, app, policy=policy)
    info = index(srv)
    assert info["debug"] is False and info["run_main"] is None, info
    assert info["pid"] == srv.process.pid
    assert_generic_500(srv.get("/boom"), app, srv)
    assert_console_closed(srv)
    one_event(srv, "debug.forced_off", source="argument", via="Flask.run",
              enforced=True)
    one_event(srv, "secret_key.rejected", action="warn")
