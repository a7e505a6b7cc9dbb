"""sitecustomize.py -- the pure-Python peer of libflaskshield.so, for make bench.

What a Python agent doing the library's per-request checks would cost: put this
folder on PYTHONPATH (no LD_PRELOAD) and `site` imports it at start-up.  It
adds a meta-path finder that, once flask.app has executed, wraps
Flask.wsgi_app (the entry every path reaches) with the checks the library
makes with the shipped policy (etc/policy.conf): debug forced off, the body
limits capped in the config, TESTING and PROPAGATE_EXCEPTIONS forced off,
SECRET_KEY judged (again whenever the key object changes: length, a weak
list, distinct bytes), a declared Content-Length over the cap answered 413,
and a body without a trusted length read through a bounded stream that
answers 413 past the cap; and, where the session cookie is signed
(SecureCookieSessionInterface.get_signing_serializer), the key judged again.

It is a benchmark peer, not a second implementation: it holds the checks, not
the logging, report mode, per-app rules or the dev-server and debugger
patches, so it is a lower bound of what such an agent costs.
"""

import sys

MAX_CONTENT_LENGTH = 16777216
MAX_FORM_MEMORY_SIZE = 500000
MAX_FORM_PARTS = 1000
MIN_KEY_LENGTH = 24
WEAK = frozenset([b"dev", b"secret", b"changeme", b"change-me", b"secret-key",
                  b"your-secret-key", b"super secret key", b"test key",
                  b"you-will-never-guess", b"hard to guess string",
                  b"development key"])
_CAPS = (("MAX_CONTENT_LENGTH", MAX_CONTENT_LENGTH),
         ("MAX_FORM_MEMORY_SIZE", MAX_FORM_MEMORY_SIZE),
         ("MAX_FORM_PARTS", MAX_FORM_PARTS))


TooLarge = None     # werkzeug's RequestEntityTooLarge once flask.app loads: a 413


class BoundedInput:
    """wsgi.input that raises TooLarge past `limit` bytes."""

    def __init__(self, inner, limit):
        self._inner = inner
        self._left = limit

    def _count(self, data):
        self._left -= len(data)
        if self._left < 0:
            raise TooLarge()
        return data

    def read(self, size=-1):
        if size is None or size < 0 or size > self._left + 1:
            size = self._left + 1
        return self._count(self._inner.read(size))

    def readline(self, size=-1):
        if size is None or size < 0 or size > self._left + 1:
            size = self._left + 1
        return self._count(self._inner.readline(size))

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def _judge(key):
    if isinstance(key, str):
        key = key.encode("utf-8", "surrogatepass")
    if not isinstance(key, (bytes, bytearray)):
        return False
    key = bytes(key).strip()
    return (len(key) >= MIN_KEY_LENGTH and key.lower() not in WEAK
            and len(set(key)) >= 8)


def _respond(start_response, status):
    body = ("<h1>%s</h1>" % status).encode()
    start_response(status, [("Content-Type", "text/html; charset=utf-8"),
                            ("Content-Length", str(len(body)))])
    return [body]


_JUDGED = {}     # id(app) -> (key object, verdict)


def _key_ok(app, key):
    seen = _JUDGED.get(id(app))
    if seen is None or seen[0] is not key:
        seen = _JUDGED[id(app)] = (key, _judge(key))
    return seen[1]


def _guard(orig):
    def wsgi_app(self, environ, start_response):
        config = self.config
        for name in ("DEBUG", "TESTING", "PROPAGATE_EXCEPTIONS"):
            if config.get(name):
                config[name] = False
        for name, cap in _CAPS:
            cur = config.get(name)
            if cur is None or cur > cap:
                config[name] = cap
        if not _key_ok(self, config.get("SECRET_KEY")):
            return _respond(start_response, "500 Internal Server Error")
        length = environ.get("CONTENT_LENGTH")
        limit = config["MAX_CONTENT_LENGTH"]
        if length and length.isdigit() and length.isascii():
            if int(length) > limit:
                return _respond(start_response, "413 Request Entity Too Large")
        elif length or "HTTP_TRANSFER_ENCODING" in environ:
            environ["wsgi.input"] = BoundedInput(environ["wsgi.input"], limit)
        return orig(self, environ, start_response)

    return wsgi_app


def _session_guard(orig):
    def get_signing_serializer(self, app):
        if not _key_ok(app, app.secret_key):
            raise RuntimeError("SECRET_KEY refused: no session is signed")
        return orig(self, app)

    return get_signing_serializer


class _Loader:
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        global TooLarge
        self._loader.exec_module(module)
        from werkzeug.exceptions import RequestEntityTooLarge as TooLarge
        module.Flask.wsgi_app = _guard(module.Flask.wsgi_app)
        from flask.sessions import SecureCookieSessionInterface as sessions
        sessions.get_signing_serializer = _session_guard(
            sessions.get_signing_serializer)


class _Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "flask.app":
            return None
        for finder in sys.meta_path:
            if finder is _Finder:
                continue
            spec = getattr(finder, "find_spec", None)
            spec = spec(name, path, target) if spec else None
            if spec is not None:
                spec.loader = _Loader(spec.loader)
                return spec
        return None


sys.meta_path.insert(0, _Finder)
