"""vulnerable_app.py -- the application of the original finding.

Everything here is what flaskshield exists for: it runs the Werkzeug
development server with the interactive debugger on (`app.run(debug=True)`,
so any exception page is a Python console for whoever reaches the port),
signs sessions with the tutorial key "dev", and accepts request bodies of any
size.  Do not deploy it.  Run it under the library and see each one
corrected or refused:

    flaskshield run -- python3 vulnerable_app.py        # port 5000, or $PORT

  GET  /           a page that uses the session (needs SECRET_KEY)
  GET  /boom       raises: the debugger's traceback console, without the library
  POST /upload     reads the whole body, however large
"""

import os

from flask import Flask, request, session

app = Flask(__name__)
app.config["SECRET_KEY"] = "dev"


@app.route("/")
def index():
    session["visits"] = session.get("visits", 0) + 1
    return "hello, visit %d\n" % session["visits"]


@app.route("/boom")
def boom():
    raise RuntimeError("something broke in the application")


@app.route("/upload", methods=["POST"])
def upload():
    data = request.get_data()
    return "received %d bytes\n" % len(data)


if __name__ == "__main__":
    # The port comes from $PORT so the tests can run it; the finding is the
    # debug=True.
    app.run(port=int(os.environ.get("PORT", "5000")), debug=True)
