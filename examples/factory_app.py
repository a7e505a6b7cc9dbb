"""factory_app.py -- an application factory configured from the environment.

The deployed counterpart of vulnerable_app.py: create_app() reads its
configuration from FLASK_* environment variables (Flask's
`config.from_prefixed_env()`: FLASK_SECRET_KEY becomes SECRET_KEY, values
that parse as JSON are decoded, so FLASK_DEBUG=true is DEBUG = True).  The
servers of this folder run it:

    gunicorn -c gunicorn.conf.py            (wsgi_app = "factory_app:create_app()")
    waitress-serve --call factory_app:create_app
    uwsgi --ini uwsgi.ini / mod_wsgi        (app.wsgi)

Generate the key once, e.g. `python3 -c "import secrets;
print(secrets.token_hex(32))"`, and give it to the service's environment.
Under flaskshield, a missing or weak key means every request gets a generic
500 page (secret_key.on_violation = "refuse"), and FLASK_DEBUG=true changes
nothing.

  GET  /           JSON: the settings flaskshield enforces, as the app sees them
  GET  /boom       raises: Flask's generic 500 page, never a traceback
  POST /upload     reads the body: 413 over body.max_content_length
"""

from flask import Flask, current_app, jsonify, request, session


def create_app():
    app = Flask(__name__)
    app.config.from_prefixed_env()

    @app.route("/")
    def index():
        session["seen"] = True
        cfg = current_app.config
        return jsonify(
            debug=current_app.debug,
            max_content_length=cfg.get("MAX_CONTENT_LENGTH"),
            session_cookie_secure=cfg.get("SESSION_COOKIE_SECURE"),
            server=request.environ.get("SERVER_SOFTWARE", ""),
        )

    @app.route("/boom")
    def boom():
        raise RuntimeError("something broke in the application")

    @app.route("/upload", methods=["POST"])
    def upload():
        return jsonify(received=len(request.get_data()))

    return app
