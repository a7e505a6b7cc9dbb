"""test_body.py -- issues 6, 12, 13: request bodies capped for every way a body
is read and every framing a server passes on.

Real servers (gunicorn passes chunked bodies through with no CONTENT_LENGTH;
waitress de-chunks and sets one), real HTTP on 127.0.0.1, both stacks (debian:
Flask/Werkzeug 2.2, where Werkzeug itself checks only form bodies; pyenv:
Flask 3.1).  A small policy limit keeps it fast.

Every view records in a JSON-lines file (BODY_LOG) when it is entered and, in
a `finally`, how many bytes it got and whether its post-read code ran; the
tests use that to prove that a 413 came from RequestEntityTooLarge before the
view could use a body (never a 200 with a truncated body), that the app never
got more than the limit, and that a declared Content-Length over the limit is
refused without running the view at all.

Framings a client cannot normally send (a Content-Length that Python's int()
reads but that is not a plain number, Content-Length with Transfer-Encoding)
go through the same raw socket; values no server passes on are set by a
middleware inside app.wsgi_app, after the library's WSGI entry.

Requests are sent with `exchange` (a raw socket that reads while it writes):
gunicorn's sync worker closes the connection after a 413 with the rest of the
body unread, so a client that writes the whole body before reading would see
a broken pipe instead of the answer.
"""

import gzip
import hashlib
import json
import random
import secrets
import select
import socket
import time
from pathlib import Path

import pytest

import harness
from harness import write_app, write_policy

LIMIT = 65536
FMS = 16384
PARTS = 10
SIZES = (LIMIT - 1, LIMIT, LIMIT + 1, 10 * LIMIT)
KINDS = ("gunicorn", "waitress")
WIRE_KINDS = KINDS + ("uwsgi", "flask-run")
SECRET = secrets.token_urlsafe(36)
BOUNDARY = "fsboundary7MA4YWxkTrZu0gW"

POLICY = """\
    version = 1;
    body = {{ max_content_length = {mcl}; max_form_memory_size = {fms};
             max_form_parts = {parts}; }};
    {extra}
    """


def policy(tmp_path, mcl=LIMIT, fms=FMS, parts=PARTS, extra=""):
    return write_policy(tmp_path, POLICY.format(mcl=mcl, fms=fms, parts=parts,
                                                extra=extra))


# --------------------------------------------------------------------------
# The app.  %(name)s: import_name; %(setup)s: extra module code.

APP = '''
import hashlib, json, os
from flask import Flask, request, jsonify, current_app

app = Flask(%(name)r, root_path=os.path.dirname(os.path.abspath(__file__)))
app.config["SECRET_KEY"] = %(secret)r
LOG = os.environ["BODY_LOG"]


def note(**kw):
    kw["id"] = request.headers.get("X-Id", "")
    kw["pid"] = os.getpid()
    with open(LOG, "a") as f:
        f.write(json.dumps(kw) + "\\n")


def reader(fn):
    def view():
        note(ev="enter")
        st = {"seen": 0}
        ok = False
        try:
            data = fn(st)
            ok = True
        finally:
            note(ev="exit", seen=st["seen"], ok=ok)
        return jsonify(len=len(data), sha=hashlib.sha256(data).hexdigest(),
                       pid=os.getpid())
    app.add_url_rule("/" + fn.__name__, fn.__name__, view, methods=["POST"])
    return fn


@reader
def get_data(st):
    d = request.get_data()
    st["seen"] = len(d)
    return d


@reader
def data(st):
    d = request.data
    st["seen"] = len(d)
    return d


@reader
def get_json(st):
    obj = request.get_json()
    d = request.get_data()          # the cached raw body
    st["seen"] = len(d)
    assert obj["a"] == d[6:-2].decode()
    return d


@reader
def stream(st):
    parts = []
    while True:
        c = request.stream.read(1000)
        if not c:
            break
        parts.append(c)
        st["seen"] += len(c)
    return b"".join(parts)


@reader
def form_urlencoded(st):
    v = request.form["a"].encode()
    st["seen"] = len(v)
    return v


@reader
def form_multipart(st):
    v = request.form["a"].encode()
    st["seen"] = len(v)
    return v


@reader
def files(st):
    v = request.files["f"].read()
    st["seen"] = len(v)
    return v


@reader
def wsgi_iter(st):
    parts = []
    for line in request.environ["wsgi.input"]:
        parts.append(line)
        st["seen"] += len(line)
    return b"".join(parts)


@reader
def stream_iter(st):
    parts = []
    for line in request.stream:
        parts.append(line)
        st["seen"] += len(line)
    return b"".join(parts)


@reader
def text_wrapper(st):
    # a CSV import's way: request.stream as a text file
    import io
    d = io.TextIOWrapper(request.stream, encoding="latin-1",
                         newline="").read().encode("latin-1")
    st["seen"] = len(d)
    return d


@reader
def buffered(st):
    import io
    d = io.BufferedReader(request.stream, 4096).read()
    st["seen"] = len(d)
    return d


@reader
def readinto(st):
    parts = []
    buf = bytearray(1000)
    with request.stream as s:
        while True:
            n = s.readinto(buf)
            if not n:
                break
            parts.append(bytes(buf[:n]))
            st["seen"] += n
    return b"".join(parts)


@reader
def wsgi_read(st):
    d = request.environ["wsgi.input"].read()
    st["seen"] = len(d)
    return d


@reader
def wsgi_chunks(st):
    parts = []
    while True:
        c = request.environ["wsgi.input"].read(1000)
        if not c:
            break
        parts.append(c)
        st["seen"] += len(c)
    return b"".join(parts)


@reader
def wsgi_readline(st):
    parts = []
    while True:
        line = request.environ["wsgi.input"].readline()
        if not line:
            break
        parts.append(line)
        st["seen"] += len(line)
    return b"".join(parts)


@reader
def wsgi_readlines(st):
    d = b"".join(request.environ["wsgi.input"].readlines())
    st["seen"] = len(d)
    return d


@app.route("/limits", methods=["GET", "POST"])
def limits():
    out = {"config": current_app.config.get("MAX_CONTENT_LENGTH")}
    for k in ("max_content_length", "max_form_memory_size", "max_form_parts"):
        out[k] = getattr(request, k, "absent")
    if request.method == "POST":
        out["nform"] = len(request.form) + len(request.files)
    out["errors"] = getattr(request, "_raise_errors", {})
    return jsonify(out)

%(setup)s
'''


def app_source(name="app", setup=""):
    return APP % {"name": name, "secret": SECRET, "setup": setup}


def records(log_path):
    p = Path(log_path)
    if not p.exists():
        return []
    return [json.loads(x) for x in p.read_text().splitlines() if x.strip()]


# --------------------------------------------------------------------------
# Bodies (exact sizes).

def raw_body(n):
    """n pseudo-random bytes: newlines scattered, so iteration yields lines."""
    return random.Random(n).randbytes(n)


def letters(n):
    s = "abcdefghijklmnopqrstuvwxyz0123456789" * (n // 36 + 1)
    return s[:n]


def json_body(n):
    return ('{"a":"%s"}' % letters(n - 8)).encode()


def urlencoded_body(n):
    return ("a=" + letters(n - 2)).encode()


def multipart(fields, total=None, file_field=False):
    """A multipart body; with `total`, the single field's value is padded so
    the body is exactly `total` bytes."""
    def encode(items):
        out = b""
        for name, value in items:
            if file_field:
                head = ('--%s\r\nContent-Disposition: form-data; name="%s"; '
                        'filename="f.bin"\r\nContent-Type: '
                        'application/octet-stream\r\n\r\n' % (BOUNDARY, name))
            else:
                head = ('--%s\r\nContent-Disposition: form-data; name="%s"'
                        '\r\n\r\n' % (BOUNDARY, name))
            out += head.encode() + value + b"\r\n"
        return out + ("--%s--\r\n" % BOUNDARY).encode()
    if total is None:
        return encode(fields)
    (name, _), = fields
    overhead = len(encode([(name, b"")]))
    return encode([(name, letters(total - overhead).encode())])


MULTIPART_CT = "multipart/form-data; boundary=" + BOUNDARY

# reader -> (body maker, content type, part of the body the view returns)
READERS = {
    "get_data": (raw_body, "application/octet-stream", lambda b: b),
    "data": (raw_body, "application/octet-stream", lambda b: b),
    "get_json": (json_body, "application/json", lambda b: b),
    "stream": (raw_body, "application/octet-stream", lambda b: b),
    "form_urlencoded": (urlencoded_body, "application/x-www-form-urlencoded",
                        lambda b: b[2:]),
    "form_multipart": (lambda n: multipart([("a", None)], n), MULTIPART_CT,
                       lambda b: b.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0]),
    "files": (lambda n: multipart([("f", None)], n, file_field=True),
              MULTIPART_CT,
              lambda b: b.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0]),
    "wsgi_iter": (raw_body, "application/octet-stream", lambda b: b),
    "wsgi_read": (raw_body, "application/octet-stream", lambda b: b),
    "wsgi_chunks": (raw_body, "application/octet-stream", lambda b: b),
    "wsgi_readline": (raw_body, "application/octet-stream", lambda b: b),
    "wsgi_readlines": (raw_body, "application/octet-stream", lambda b: b),
    "stream_iter": (raw_body, "application/octet-stream", lambda b: b),
    "text_wrapper": (raw_body, "application/octet-stream", lambda b: b),
    "buffered": (raw_body, "application/octet-stream", lambda b: b),
    "readinto": (raw_body, "application/octet-stream", lambda b: b),
}


# --------------------------------------------------------------------------
# HTTP that reads while it writes.

class Exchange:
    """status (int or None), headers (dict, lower-case), body, sent (body
    bytes written), error (str: what stopped the exchange abnormally)."""

    def __init__(self):
        self.status = None
        self.headers = {}
        self.body = b""
        self.sent = 0
        self.error = None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Exchange %s sent=%d error=%s body=%r>" % (
            self.status, self.sent, self.error, self.body[:200])


def _parse(buf, ex, eof):
    """Fill `ex` from the bytes received; True when the response is whole."""
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    lines = head.decode("latin-1").split("\r\n")
    ex.status = int(lines[0].split()[1])
    ex.headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        ex.headers[k.strip().lower()] = v.strip()
    n = ex.headers.get("content-length")
    if n is not None and len(rest) >= int(n):
        ex.body = rest[:int(n)]
        return True
    ex.body = rest
    return eof


def exchange(port, path, pieces, headers, timeout=30.0, half_close=False):
    """POST `path`: the head, then the byte strings of `pieces` (already
    framed), reading the response while writing.  Stops writing when the
    server answers or closes; with half_close, shuts its side down once
    all is written (a reader that reads to the end of the connection then
    returns instead of waiting for the timeout); returns an Exchange."""
    ex = Exchange()
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % path
    head += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    pieces = iter(pieces)
    pending = memoryview(head.encode())
    sending = True
    buf = b""
    deadline = time.monotonic() + timeout
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.setblocking(False)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                ex.error = "timeout"
                break
            if sending and not len(pending):
                nxt = next(pieces, None)
                if nxt is None:
                    sending = False
                    if half_close:
                        try:
                            s.shutdown(socket.SHUT_WR)
                        except OSError:     # the server closed first
                            pass
                else:
                    pending = memoryview(nxt)
                    continue
            r, w, _ = select.select([s], [s] if sending else [], [], left)
            if r:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    ex.error = "reset"
                    _parse(buf, ex, True)
                    break
                if _parse(buf + chunk, ex, not chunk):
                    break
                buf += chunk
                if not chunk:
                    ex.error = "closed"
                    break
                continue
            if w:
                try:
                    n = s.send(pending[:262144])
                except (BrokenPipeError, ConnectionResetError) as e:
                    ex.error = "send: %s" % e.__class__.__name__
                    sending = False
                    pending = memoryview(b"")
                    continue
                pending = pending[n:]
                ex.sent += n
    finally:
        s.close()
    return ex


def framed(body, chunked, chunk=16384):
    if not chunked:
        yield body
        return
    for i in range(0, len(body), chunk):
        piece = body[i:i + chunk]
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def post(server, path, body, ctype="application/octet-stream", chunked=False,
         rid="", headers=None, timeout=30.0):
    h = {"Content-Type": ctype, "X-Id": rid}
    if chunked:
        h["Transfer-Encoding"] = "chunked"
    else:
        h["Content-Length"] = str(len(body))
    h.update(headers or {})
    return exchange(server.port, path, framed(body, chunked), h, timeout)


def start(start_server, kind, stack, tmp_path, source, pol, **kw):
    app = write_app(tmp_path, source)
    log = tmp_path / "body.log"
    env = dict(kw.pop("env", {}), BODY_LOG=str(log))
    srv = start_server(kind, stack, app, policy=pol, env=env, **kw)
    srv.body_log = log
    return srv


def capped(srv, **fields):
    return srv.events("body.capped", **fields)


# --------------------------------------------------------------------------
# Every reader, every size, Content-Length and chunked.

EXHAUSTING_READERS = ("stream", "stream_iter", "form_multipart", "files")


@pytest.mark.parametrize("kind", KINDS)
def test_every_reader_every_size(stack, shield, tmp_path, start_server, kind):
    pol = policy(tmp_path, fms=LIMIT)      # form memory: not the limit here
    srv = start(start_server, kind, stack, tmp_path, app_source(), pol)
    failures = []
    n = 0
    for reader, (make, ctype, part) in READERS.items():
        for size in SIZES:
            body = make(size)
            assert len(body) == size
            for chunked in (False, True):
                n += 1
                rid = "%s-%d-%s" % (reader, size, "chunked" if chunked else "cl")
                ex = post(srv, "/" + reader, body, ctype, chunked, rid)
                recs = [r for r in records(srv.body_log) if r["id"] == rid]
                entered = [r for r in recs if r["ev"] == "enter"]
                exits = [r for r in recs if r["ev"] == "exit"]
                declared = not chunked or kind == "waitress"
                if size <= LIMIT:
                    want = part(body)
                    if ex.status != 200:
                        failures.append("%s: %r" % (rid, ex))
                        continue
                    got = ex.json()
                    if (got["len"], got["sha"]) != (
                            len(want), hashlib.sha256(want).hexdigest()):
                        failures.append("%s: app saw %d bytes, sent %d"
                                        % (rid, got["len"], len(want)))
                    if not (exits and exits[0]["ok"]):
                        failures.append("%s: no completed view %r" % (rid, recs))
                    continue
                # over the limit: 413, never more than the limit in the app
                if ex.status != 413:
                    failures.append("%s: want 413, got %r" % (rid, ex))
                if any(r["ok"] for r in exits):
                    failures.append("%s: the view's post-read code ran %r"
                                    % (rid, recs))
                if any(r["seen"] > LIMIT for r in exits):
                    failures.append("%s: the app got more than %d bytes %r"
                                    % (rid, LIMIT, recs))
                if declared and size > LIMIT and entered:
                    failures.append("%s: declared length %d over the limit but "
                                    "the view ran %r" % (rid, size, recs))
                if not declared and not entered:
                    failures.append("%s: chunked body: the view should have run "
                                    "and been stopped while reading %r"
                                    % (rid, recs))
    assert n == len(READERS) * len(SIZES) * 2
    assert srv.alive()
    assert not failures, "\n".join(failures)
    # a limit was set on an app that had none: logged, once per worker
    ev = capped(srv, key="MAX_CONTENT_LENGTH")
    assert ev and all(e["old"] is None and e["new"] == LIMIT and e["enforced"]
                      for e in ev), ev
    assert len({e["pid"] for e in ev}) == len(ev), ev


def test_exact_limit_exhaustion_is_werkzeugs(stack, tmp_path, start_server):
    """Without the library, an app that sets the limits itself gets 413 for
    a body of exactly max_content_length from the readers that read again
    after it (a loop of small reads; the multipart parser) on Werkzeug >=
    2.3: every server that sets wsgi.input_terminated (gunicorn and waitress
    both do) gets its body wrapped in LimitedStream(max_content_length,
    is_max=True), whose read *after* exactly the limit raises
    RequestEntityTooLarge; on Werkzeug 2.2 they are 200.  With the library
    (test_every_reader_every_size) they are 200 on both: a declared length
    within the cap is read up to that length and no further (issue 19), and
    a body of unknown length through the library's bounded stream, which
    delivers exactly the limit.  Also shows what the library prevents: a
    chunked get_data() one byte over the limit is a 200 with a truncated body
    (Werkzeug >= 2.3) or the whole body (2.2)."""
    setup = ('app.config["MAX_CONTENT_LENGTH"] = %d\n'
             'app.config["MAX_FORM_MEMORY_SIZE"] = %d' % (LIMIT, LIMIT))
    srv = start(start_server, "gunicorn", stack, tmp_path,
                app_source(setup=setup), None, preload=False, workers=1)
    for reader in EXHAUSTING_READERS:
        make, ctype, part = READERS[reader]
        body = make(LIMIT)
        for chunked in (False, True):
            ex = post(srv, "/" + reader, body, ctype, chunked)
            if stack.flask_major >= 3:
                assert ex.status == 413, (reader, chunked, ex)
            else:
                assert ex.status == 200, (reader, chunked, ex)
                assert ex.json()["len"] == len(part(body)), (reader, ex)
    ex = post(srv, "/get_data", raw_body(LIMIT + 1), chunked=True)
    assert ex.status == 200, ex
    assert ex.json()["len"] == (LIMIT if stack.flask_major >= 3 else LIMIT + 1)
    assert srv.log_lines() == []


# --------------------------------------------------------------------------
# The app's own limits.

@pytest.mark.parametrize("kind", KINDS)
def test_app_lower_limit_is_kept(stack, shield, tmp_path, start_server, kind):
    setup = 'app.config["MAX_CONTENT_LENGTH"] = 1000'
    if stack.flask_major >= 3:
        setup += '\napp.config["MAX_FORM_PARTS"] = 5'
    else:
        setup += ('\nclass SmallRequest(app.request_class):\n'
                  '    max_form_parts = 5\n'
                  'app.request_class = SmallRequest')
    srv = start(start_server, kind, stack, tmp_path, app_source(setup=setup),
                policy(tmp_path))
    for chunked in (False, True):
        for path, ok in (("/get_data", True), ("/stream", True),
                         ("/wsgi_read", True)):
            ex = post(srv, path, raw_body(999), chunked=chunked)
            assert ex.status == 200 and ex.json()["len"] == 999, (path, ex)
            ex = post(srv, path, raw_body(1001), chunked=chunked)
            assert ex.status == 413, (path, chunked, ex)
    five = multipart([("f%d" % i, b"x") for i in range(5)])
    six = multipart([("f%d" % i, b"x") for i in range(6)])
    assert post(srv, "/limits", five, MULTIPART_CT).json()["nform"] == 5
    assert post(srv, "/limits", six, MULTIPART_CT).status == 413
    assert srv.get("/limits").json()["config"] == 1000
    assert capped(srv, key="MAX_CONTENT_LENGTH") == []
    assert capped(srv, key="MAX_FORM_PARTS") == []
    assert capped(srv, key="max_form_parts") == []


@pytest.mark.parametrize("kind", KINDS)
def test_app_higher_limit_is_capped_and_logged_once(stack, shield, tmp_path,
                                                   start_server, kind):
    setup = 'app.config["MAX_CONTENT_LENGTH"] = 10 ** 12'
    srv = start(start_server, kind, stack, tmp_path, app_source(setup=setup),
                policy(tmp_path))
    for i in range(8):
        chunked = bool(i % 2)
        ex = post(srv, "/get_data", raw_body(LIMIT), chunked=chunked)
        assert ex.status == 200 and ex.json()["len"] == LIMIT, ex
        ex = post(srv, "/get_data", raw_body(LIMIT + 1), chunked=chunked)
        assert ex.status == 413, ex
        assert srv.get("/limits").json()["config"] == LIMIT
    workers = set(srv.pids()) - {srv.process.pid} if kind == "gunicorn" \
        else {srv.process.pid}
    ev = capped(srv)
    assert ev, srv.stderr_text()
    assert {e["pid"] for e in ev} <= workers, (ev, workers)
    if stack.flask_major >= 3:
        want = {("MAX_CONTENT_LENGTH", 10 ** 12, LIMIT),
                ("MAX_FORM_MEMORY_SIZE", 500000, FMS),
                ("MAX_FORM_PARTS", 1000, PARTS)}
    else:
        want = {("MAX_CONTENT_LENGTH", 10 ** 12, LIMIT),
                ("max_form_memory_size", None, FMS),
                ("max_form_parts", 1000, PARTS)}
    for pid in {e["pid"] for e in ev}:
        mine = [(e["key"], e["old"], e["new"]) for e in ev if e["pid"] == pid]
        assert sorted(mine, key=str) == sorted(want, key=str), ev
        assert all(e["enforced"] and e["app"] == "app" for e in ev)


# --------------------------------------------------------------------------
# Form limits.

@pytest.mark.parametrize("kind", KINDS)
def test_form_limits(stack, shield, tmp_path, start_server, kind):
    srv = start(start_server, kind, stack, tmp_path, app_source(),
                policy(tmp_path))
    # urlencoded: the whole body is one value of max_form_memory_size
    ok = post(srv, "/form_urlencoded", urlencoded_body(FMS),
              "application/x-www-form-urlencoded")
    assert ok.status == 200 and ok.json()["len"] == FMS - 2, ok
    big = post(srv, "/form_urlencoded", urlencoded_body(FMS + 1),
               "application/x-www-form-urlencoded")
    assert big.status == 413, big
    # multipart: a non-file field larger than max_form_memory_size
    # (the whole body under FMS: Werkzeug 3.1's MultipartDecoder refuses any
    # read buffer larger than max_form_memory_size, not only one field)
    ok = post(srv, "/form_multipart",
              multipart([("a", letters(FMS - 200).encode())]), MULTIPART_CT)
    assert ok.status == 200 and ok.json()["len"] == FMS - 200, ok
    big = post(srv, "/form_multipart",
               multipart([("a", letters(FMS + 1).encode())]), MULTIPART_CT)
    assert big.status == 413, big
    # parts
    for chunked in (False, True):
        n = post(srv, "/limits", multipart([("f%d" % i, b"x")
                                            for i in range(PARTS)]),
                 MULTIPART_CT, chunked)
        assert n.status == 200 and n.json()["nform"] == PARTS, n
        over = post(srv, "/limits", multipart([("f%d" % i, b"x")
                                               for i in range(PARTS + 1)]),
                    MULTIPART_CT, chunked)
        assert over.status == 413, over
    got = srv.get("/limits").json()
    assert (got["max_form_memory_size"], got["max_form_parts"]) == (FMS, PARTS)


# A url-encoded form is read whole into memory; Werkzeug checks
# max_form_memory_size only against a Content-Length.  Sent chunked (gunicorn
# passes no CONTENT_LENGTH, the development server de-chunks without one;
# waitress sets one), a form past it must be refused as one with a
# Content-Length is, before the view gets it; the raw body of the same
# request stays the body cap's.  Before: gunicorn and the development server
# served a form of any size up to max_content_length.  (uWSGI, as the tests
# run it, hands no chunked body to the app: the view sees none.)

@pytest.mark.parametrize("kind", KINDS + ("flask-run",))
def test_chunked_urlencoded_form_is_bounded(stack, shield, tmp_path,
                                            start_server, kind):
    srv = start(start_server, kind, stack, tmp_path, app_source(),
                policy(tmp_path), workers=1)
    ct = "application/x-www-form-urlencoded"
    ok = post(srv, "/form_urlencoded", urlencoded_body(FMS), ct, chunked=True)
    assert ok.status == 200 and ok.json()["len"] == FMS - 2, ok
    for size in (FMS + 1, LIMIT):
        rid = "form-%d" % size
        big = post(srv, "/form_urlencoded", urlencoded_body(size), ct,
                   chunked=True, rid=rid)
        assert big.status == 413, big
        exits = [r for r in records(srv.body_log)
                 if r["id"] == rid and r["ev"] == "exit"]
        assert exits and not exits[0]["ok"] and exits[0]["seen"] == 0, exits
    raw = post(srv, "/get_data", urlencoded_body(FMS + 1), ct, chunked=True)
    assert raw.status == 200 and raw.json()["len"] == FMS + 1, raw
    assert srv.alive()


# The same bound through the app's own lower limit written as a float (config
# arithmetic: 0.5 * 16384; Werkzeug compares it as it is), for a Content-Length
# beside "Transfer-Encoding: Chunked" (Werkzeug 2.2 takes the length, a server
# de-chunks the body), and never for a parser used outside a request (an app
# context of a CLI command or a job).  In process, both stacks: a terminated
# stream as gunicorn passes it.
FORM_VARIANTS = """
import io, json, sys
from flask import Flask, request
from flask.wrappers import Request
from werkzeug.formparser import FormDataParser

app = Flask("formvariants")
app.config["SECRET_KEY"] = %(secret)r
if sys.argv[1] == "float-config":
    app.config["MAX_FORM_MEMORY_SIZE"] = 0.5 * 16384
elif sys.argv[1] == "float-class":
    class HalfRequest(Request):
        max_form_memory_size = 0.5 * 16384
    app.request_class = HalfRequest


@app.post("/form")
def form():
    return str(len(request.form["a"]))


def call(n, te=None, cl=True):
    body = b"a=" + b"x" * (n - 2)
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/form",
           "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
           "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
           "wsgi.input_terminated": True, "SERVER_PROTOCOL": "HTTP/1.1",
           "CONTENT_TYPE": "application/x-www-form-urlencoded"}
    if te:
        env["HTTP_TRANSFER_ENCODING"] = te
    if cl is True:
        env["CONTENT_LENGTH"] = str(n)
    elif cl:
        env["CONTENT_LENGTH"] = cl
    out = []
    b"".join(app.wsgi_app(env, lambda s, h, e=None: out.append(s)))
    return int(out[0].split()[0])


if sys.argv[1] == "outside":
    body = b"a=" + b"x" * 100000
    with app.app_context():
        got = FormDataParser(max_form_memory_size=1000).parse(
            io.BytesIO(body), "application/x-www-form-urlencoded", None)
    print(json.dumps(len(got[1]["a"])))
else:
    print(json.dumps([call(n, te, cl) for n, te, cl in json.loads(sys.argv[2])]))
"""


@pytest.mark.parametrize("variant", ["float-config", "float-class"])
def test_chunked_form_under_a_float_limit(stack, shield, tmp_path, variant):
    if variant == "float-config" and stack.name == "debian":
        pytest.skip("Flask 2.2 has no MAX_FORM_MEMORY_SIZE")
    half = FMS // 2
    cases = [[half, None, True], [half + 1, None, True],
             [half, "chunked", None], [half + 1, "chunked", None],
             [10 * FMS, "chunked", None]]
    cp = harness.run_python(stack, ["-c", FORM_VARIANTS % {"secret": SECRET},
                                    variant, json.dumps(cases)],
                            policy=policy(tmp_path))
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert json.loads(cp.stdout) == [200, 413, 200, 413, 413], cp.stdout


def test_chunked_form_with_a_length_beside(stack, shield, tmp_path):
    cases = [[FMS, "Chunked", "5"], [FMS + 1, "Chunked", "5"],
             [10 * FMS, "Chunked", "5"], [FMS + 1, "chunked", str(FMS + 1)]]
    cp = harness.run_python(stack, ["-c", FORM_VARIANTS % {"secret": SECRET},
                                    "plain", json.dumps(cases)],
                            policy=policy(tmp_path))
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert json.loads(cp.stdout) == [200, 413, 413, 413], cp.stdout


def test_form_parser_outside_a_request_is_werkzeugs(stack, shield, tmp_path):
    cp = harness.run_python(stack, ["-c", FORM_VARIANTS % {"secret": SECRET},
                                    "outside"], policy=policy(tmp_path))
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert json.loads(cp.stdout) == 100000, cp.stdout


def test_request_class_raising_form_limits_is_capped(stack, shield, tmp_path,
                                                     start_server):
    """An app whose own request class raises the form limits (class
    attributes, the way Werkzeug 2.2 keeps them) still gets the policy's."""
    setup = ('class BigRequest(app.request_class):\n'
             '    max_form_parts = 10 ** 6\n'
             '    max_form_memory_size = 10 ** 9\n'
             'app.request_class = BigRequest')
    srv = start(start_server, "gunicorn", stack, tmp_path,
                app_source(setup=setup), policy(tmp_path), workers=1)
    over = post(srv, "/limits", multipart([("f%d" % i, b"x")
                                           for i in range(PARTS + 1)]),
                MULTIPART_CT)
    big = post(srv, "/form_urlencoded", urlencoded_body(FMS + 1),
               "application/x-www-form-urlencoded")
    got = srv.get("/limits").json()
    assert (over.status, big.status) == (413, 413), (over, big)
    assert (got["max_form_memory_size"], got["max_form_parts"]) == (FMS, PARTS)
    # the limits on the whole body still hold
    assert post(srv, "/get_data", raw_body(LIMIT + 1),
                chunked=True).status == 413


# --------------------------------------------------------------------------
# Per-request raises (settable on Flask 3.1; read-only before).

RAISES = '''
@app.before_request
def raise_limits():
    errors = {}
    for k, v in (("max_content_length", 10 ** 12),
                 ("max_form_memory_size", 10 ** 12),
                 ("max_form_parts", 10 ** 6)):
        try:
            setattr(request, k, v)
        except Exception as e:
            errors[k] = type(e).__name__
    request._raise_errors = errors
'''


@pytest.mark.parametrize("kind", KINDS)
def test_per_request_raises_are_capped(stack, shield, tmp_path, start_server,
                                       kind):
    srv = start(start_server, kind, stack, tmp_path, app_source(setup=RAISES),
                policy(tmp_path))
    got = srv.get("/limits").json()
    assert (got["max_content_length"], got["max_form_memory_size"],
            got["max_form_parts"]) == (LIMIT, FMS, PARTS), got
    if stack.flask_major >= 3:
        # Flask 3.1: the assignments themselves succeed (and are capped)
        assert got["errors"] == {}, got
    else:
        # Flask 2.2: request.max_content_length is a read-only property
        assert got["errors"].get("max_content_length") == "AttributeError", got
    for chunked in (False, True):
        ex = post(srv, "/get_data", raw_body(LIMIT + 1), chunked=chunked)
        assert ex.status == 413, ex
        ex = post(srv, "/get_data", raw_body(LIMIT), chunked=chunked)
        assert ex.status == 200 and ex.json()["len"] == LIMIT, ex
        over = post(srv, "/limits", multipart([("f%d" % i, b"x")
                                               for i in range(PARTS + 1)]),
                    MULTIPART_CT, chunked)
        assert over.status == 413, over
    big = post(srv, "/form_urlencoded", urlencoded_body(FMS + 1),
               "application/x-www-form-urlencoded")
    assert big.status == 413, big


# --------------------------------------------------------------------------
# A request's own lower limit (Flask 3.1's request.max_content_length), for
# every framing: a chunked body is read through the guard's bounded stream,
# which must take the lower limit too.

OWN_LIMIT = '''
@app.route("/own_limit", methods=["POST"])
def own_limit():
    request.max_content_length = 1000
    return jsonify(len=len(request.get_data()))
'''


@pytest.mark.parametrize("kind", KINDS)
def test_request_own_lower_limit_every_framing(stack, shield, tmp_path,
                                                start_server, kind):
    if stack.flask_major < 3:
        pytest.skip("request.max_content_length is read-only before Flask 3.1")
    srv = start(start_server, kind, stack, tmp_path,
                app_source(setup=OWN_LIMIT), policy(tmp_path))
    for chunked in (False, True):
        ex = post(srv, "/own_limit", raw_body(1000), chunked=chunked)
        assert ex.status == 200 and ex.json()["len"] == 1000, (chunked, ex)
        for size in (1001, LIMIT - 1):
            ex = post(srv, "/own_limit", raw_body(size), chunked=chunked)
            assert ex.status == 413, (chunked, size, ex)


# --------------------------------------------------------------------------
# Per-app override.

DISPATCH = '''
import os
import app_big, app_other

def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/big/"):
        environ["PATH_INFO"] = path[4:]
        return app_big.app(environ, start_response)
    return app_other.app(environ, start_response)
'''


@pytest.mark.parametrize("kind", KINDS)
def test_per_app_override(stack, shield, tmp_path, start_server, kind):
    write_app(tmp_path, app_source(name="bigapp"), name="app_big.py")
    write_app(tmp_path, app_source(name="otherapp"), name="app_other.py")
    pol = policy(tmp_path, extra='apps = ( { match = "bigapp"; '
                 'body = { max_content_length = 200000; }; } );')
    srv = start(start_server, kind, stack, tmp_path, DISPATCH, pol)
    body = raw_body(150000)
    for chunked in (False, True):
        ex = post(srv, "/big/get_data", body, chunked=chunked)
        assert ex.status == 200, ex
        assert ex.json()["sha"] == hashlib.sha256(body).hexdigest()
        ex = post(srv, "/big/stream", raw_body(200001), chunked=chunked)
        assert ex.status == 413, ex
        ex = post(srv, "/get_data", body, chunked=chunked)
        assert ex.status == 413, ex
        ex = post(srv, "/get_data", raw_body(LIMIT), chunked=chunked)
        assert ex.status == 200 and ex.json()["len"] == LIMIT, ex
    assert srv.get("/big/limits").json()["config"] == 200000
    assert srv.get("/limits").json()["config"] == LIMIT
    big = capped(srv, key="MAX_CONTENT_LENGTH", app="bigapp")
    other = capped(srv, key="MAX_CONTENT_LENGTH", app="otherapp")
    assert big and all(e["new"] == 200000 for e in big), big
    assert other and all(e["new"] == LIMIT for e in other), other


# --------------------------------------------------------------------------
# Report mode.

@pytest.mark.parametrize("kind", KINDS)
def test_report_mode_changes_nothing(stack, shield, tmp_path, start_server,
                                     kind):
    pol = write_policy(tmp_path, """\
        version = 1;
        mode = "report";
        body = { max_content_length = 65536; max_form_memory_size = 16384;
                 max_form_parts = 10; };
        """)
    srv = start(start_server, kind, stack, tmp_path, app_source(), pol)
    body = raw_body(10 * LIMIT)
    for i in range(3):
        for chunked in (False, True):
            for path in ("/get_data", "/stream", "/wsgi_read"):
                ex = post(srv, path, body, chunked=chunked)
                assert ex.status == 200, (path, chunked, ex)
                assert ex.json()["sha"] == hashlib.sha256(body).hexdigest()
    form = urlencoded_body(FMS + 1)
    ex = post(srv, "/form_urlencoded", form,
              "application/x-www-form-urlencoded", chunked=True)
    assert ex.status == 200 and ex.json()["len"] == FMS - 1, ex
    got = srv.get("/limits").json()
    assert got["config"] is None and got["max_content_length"] is None, got
    assert got["max_form_parts"] != PARTS, got
    ev = capped(srv, key="MAX_CONTENT_LENGTH")
    assert ev and all(e["old"] is None and e["new"] == LIMIT
                      and e["enforced"] is False and e["mode"] == "report"
                      for e in ev), ev
    assert len({e["pid"] for e in ev}) == len(ev), ev
    assert capped(srv, enforced=True) == []


# --------------------------------------------------------------------------
# Memory: a 1 GiB chunked upload is refused without the worker holding it.

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def gib_chunks(total=1 << 30, size=1 << 16):
    block = bytes(range(256)) * (size // 256)
    frame = b"%x\r\n" % size + block + b"\r\n"
    for _ in range(total // size):
        yield frame
    yield b"0\r\n\r\n"


def test_gib_chunked_upload_memory_bounded(stack, shield, tmp_path,
                                           start_server):
    srv = start(start_server, "gunicorn", stack, tmp_path, app_source(),
                policy(tmp_path), workers=1,
                extra_args=["--timeout", "60"])
    # warm the worker: imports, a normal body, a refused chunked body
    assert srv.get("/limits").status == 200
    assert post(srv, "/get_data", raw_body(1000), chunked=True).status == 200
    assert post(srv, "/get_data", raw_body(LIMIT + 1), chunked=True).status == 413
    workers = [p for p in srv.pids() if p != srv.process.pid]
    assert len(workers) == 1, srv.pids()
    worker = workers[0]
    before = rss_kib(worker)
    t0 = time.monotonic()
    ex = exchange(srv.port, "/get_data", gib_chunks(),
                  {"Content-Type": "application/octet-stream",
                   "Transfer-Encoding": "chunked", "X-Id": "gib"},
                  timeout=60)
    elapsed = time.monotonic() - t0
    # the server answered (or, having answered, closed) long before 1 GiB
    assert ex.status == 413 or (ex.status is None and ex.error), ex
    assert ex.sent < 1 << 30, ex
    recs = [r for r in records(srv.body_log) if r["id"] == "gib"]
    assert [r["ev"] for r in recs] == ["enter", "exit"], recs
    assert recs[1]["ok"] is False and recs[1]["seen"] <= LIMIT, recs
    after = rss_kib(worker)
    assert after - before < 64 * 1024, (before, after)
    assert elapsed < 60
    # the same worker lives on and serves
    assert [p for p in srv.pids() if p != srv.process.pid] == [worker]
    ok = post(srv, "/get_data", raw_body(LIMIT), chunked=True)
    assert ok.status == 200 and ok.json()["len"] == LIMIT
    assert ok.json()["pid"] == worker


# --------------------------------------------------------------------------
# Framings the guard cannot read as a plain length (issue 12): every reader,
# under and over the limit.  gunicorn passes "+N" and "N_NNN" on (its int()
# reads them) and, with --tolerate-dangerous-framing, Content-Length with
# Transfer-Encoding: chunked; waitress refuses the odd values itself (400)
# and de-chunks CL+TE into a plain length.  Before: Werkzeug 2.2 read these
# bodies whole (the library trusted the length or left it alone), Werkzeug
# 3.1 cut them at the limit and answered 200.

def bounded_outcome(rid, ex, recs, size, want):
    """What is wrong with one exchange of a body of `size` bytes (`want`:
    what the view should have read): within the limit a 200 and the whole
    body; over it a 413, the view's post-read code never run and never more
    than the limit read."""
    exits = [r for r in recs if r["ev"] == "exit"]
    if size <= LIMIT:
        if ex.status != 200:
            return ["%s: %r" % (rid, ex)]
        if ex.json()["sha"] != hashlib.sha256(want).hexdigest():
            return ["%s: app saw %d bytes, sent %d"
                    % (rid, ex.json()["len"], len(want))]
        return []
    bad = []
    if ex.status != 413:
        bad.append("%s: want 413, got %r" % (rid, ex))
    if any(r["ok"] for r in exits):
        bad.append("%s: the view's post-read code ran %r" % (rid, recs))
    if any(r["seen"] > LIMIT for r in exits):
        bad.append("%s: the app got more than %d bytes %r"
                   % (rid, LIMIT, recs))
    return bad


def underscored(n):
    s = str(n)
    return s[0] + "_" + s[1:]


ODD_FRAMINGS = {
    "cl+te": (lambda n: {"Content-Length": "10",
                         "Transfer-Encoding": "chunked"}, True),
    "cl-underscore": (lambda n: {"Content-Length": underscored(n)}, False),
    "cl-plus": (lambda n: {"Content-Length": "+%d" % n}, False),
}
ODD_SIZES = (LIMIT - 1, LIMIT + 1, 4 * LIMIT)


def gunicorn_args(kind):
    return ["--tolerate-dangerous-framing"] if kind == "gunicorn" else []


@pytest.mark.parametrize("kind", KINDS)
def test_odd_framings_every_reader(stack, shield, tmp_path, start_server,
                                   kind):
    srv = start(start_server, kind, stack, tmp_path, app_source(),
                policy(tmp_path, fms=LIMIT), extra_args=gunicorn_args(kind))
    failures = []
    for framing, (heads, chunked) in ODD_FRAMINGS.items():
        for reader, (make, ctype, part) in READERS.items():
            for size in ODD_SIZES:
                body = make(size)
                rid = "%s-%s-%d" % (framing, reader, size)
                h = dict(heads(size), **{"Content-Type": ctype, "X-Id": rid})
                ex = exchange(srv.port, "/" + reader, framed(body, chunked), h)
                recs = [r for r in records(srv.body_log) if r["id"] == rid]
                if kind == "waitress" and not chunked:
                    # waitress: "Content-Length is invalid"
                    if ex.status != 400 or recs:
                        failures.append("%s: want waitress's 400, got %r %r"
                                        % (rid, ex, recs))
                    continue
                failures += bounded_outcome(rid, ex, recs, size,
                                            part(body))
    assert srv.alive()
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------
# A middleware inside app.wsgi_app that inflates the body (issue 12): the
# library's WSGI entry sees the small compressed body; the request must
# still be bounded by what it reads.  Modes: the inflated length declared
# as a plain number, no length at all (a streaming decompressor), or as one
# of the forms int() reads but no server passes on.

INFLATE = '''
import gzip, io

ODD = {
    "plus": lambda n: "+%d" % n,
    "space": lambda n: " %d" % n,
    "trailing": lambda n: "%d\\t" % n,
    "underscore": lambda n: "{:_}".format(n),
    "arabic": lambda n: str(n).translate(
        str.maketrans("0123456789", "\\u0660\\u0661\\u0662\\u0663\\u0664"
                                    "\\u0665\\u0666\\u0667\\u0668\\u0669")),
    "declared": str,
}


class Inflate:
    """Decompress a gzip request body (X-Inflate: mode)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        mode = environ.get("HTTP_X_INFLATE")
        if mode:
            raw = environ["wsgi.input"]
            if mode == "stream":
                environ["wsgi.input"] = gzip.GzipFile(fileobj=raw, mode="rb")
                environ.pop("CONTENT_LENGTH", None)
            else:
                data = gzip.decompress(raw.read(int(environ["CONTENT_LENGTH"])))
                environ["wsgi.input"] = io.BytesIO(data)
                environ["CONTENT_LENGTH"] = ODD[mode](len(data))
        return self.app(environ, start_response)


app.wsgi_app = Inflate(app.wsgi_app)
'''

INFLATE_MODES = ("declared", "stream", "plus", "space", "trailing",
                 "underscore", "arabic")


def text_body(n):
    """n compressible bytes in lines."""
    return (b"0123456789abcdefghijklmnopqrstu\n" * (n // 32 + 1))[:n]


INFLATE_READERS = {
    "get_data": (text_body, "application/octet-stream", lambda b: b),
    "stream": (text_body, "application/octet-stream", lambda b: b),
    "stream_iter": (text_body, "application/octet-stream", lambda b: b),
    "get_json": READERS["get_json"],
    "form_urlencoded": READERS["form_urlencoded"],
}


@pytest.mark.parametrize("kind", KINDS)
def test_inflating_middleware_is_bounded(stack, shield, tmp_path,
                                         start_server, kind):
    srv = start(start_server, kind, stack, tmp_path,
                app_source(setup=INFLATE), policy(tmp_path, fms=LIMIT))
    failures = []
    for mode in INFLATE_MODES:
        for reader, (make, ctype, part) in INFLATE_READERS.items():
            for size in (LIMIT - 1, 16 * LIMIT):
                body = make(size)
                packed = gzip.compress(body)
                assert len(packed) < LIMIT // 4
                rid = "%s-%s-%d" % (mode, reader, size)
                ex = post(srv, "/" + reader, packed, ctype, rid=rid,
                          headers={"X-Inflate": mode})
                recs = [r for r in records(srv.body_log) if r["id"] == rid]
                failures += bounded_outcome(rid, ex, recs, size, part(body))
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------
# A view lowers the form limits for its request (issue 12: AttributeError,
# a 500, on Flask 2.2, where they are plain class attributes of Werkzeug's
# Request); raising them past the policy's is capped.

LOWER = '''
@app.route("/lower", methods=["POST"])
def lower():
    request.max_form_memory_size = int(request.args["fms"])
    request.max_form_parts = int(request.args["parts"])
    out = {"max_form_memory_size": request.max_form_memory_size,
           "max_form_parts": request.max_form_parts}
    out["n"] = len(request.form) + len(request.files)
    return jsonify(out)
'''


@pytest.mark.parametrize("kind", KINDS)
def test_view_lowers_form_limits(stack, shield, tmp_path, start_server, kind):
    srv = start(start_server, kind, stack, tmp_path, app_source(setup=LOWER),
                policy(tmp_path))

    def parts(n):
        return multipart([("f%d" % i, b"x") for i in range(n)])

    low = "/lower?fms=1000&parts=3"
    ok = post(srv, low, parts(3), MULTIPART_CT)
    assert ok.status == 200, ok
    assert ok.json() == {"max_form_memory_size": 1000, "max_form_parts": 3,
                         "n": 3}, ok
    assert post(srv, low, parts(4), MULTIPART_CT).status == 413
    ok = post(srv, low, urlencoded_body(1000),
              "application/x-www-form-urlencoded")
    assert ok.status == 200 and ok.json()["n"] == 1, ok
    big = post(srv, low, urlencoded_body(1001),
               "application/x-www-form-urlencoded")
    assert big.status == 413, big
    # raising past the policy: capped at the policy's limits
    high = "/lower?fms=1000000000&parts=1000000"
    ok = post(srv, high, parts(PARTS), MULTIPART_CT, chunked=True)
    assert ok.status == 200, ok
    assert ok.json() == {"max_form_memory_size": FMS, "max_form_parts": PARTS,
                         "n": PARTS}, ok
    assert post(srv, high, parts(PARTS + 1), MULTIPART_CT).status == 413
    assert post(srv, high, urlencoded_body(FMS + 1),
                "application/x-www-form-urlencoded").status == 413
    # the next request has the app's limits again
    got = srv.get("/limits").json()
    assert (got["max_form_memory_size"], got["max_form_parts"]) == (FMS, PARTS)


# --------------------------------------------------------------------------
# The form limits changed in the config after the first request (issue 13:
# the limits handed to the request were rebuilt only when
# MAX_CONTENT_LENGTH changed).

SET_LIMITS = '''
@app.route("/set_form_limits", methods=["POST"])
def set_form_limits():
    current_app.config["MAX_FORM_MEMORY_SIZE"] = int(request.args["fms"])
    current_app.config["MAX_FORM_PARTS"] = int(request.args["parts"])
    return "ok"
'''


@pytest.mark.parametrize("kind", KINDS)
def test_form_limits_follow_the_config(stack, shield, tmp_path, start_server,
                                       kind):
    srv = start(start_server, kind, stack, tmp_path,
                app_source(setup=SET_LIMITS), policy(tmp_path), workers=1)
    five = multipart([("f%d" % i, b"x") for i in range(5)])
    assert post(srv, "/limits", five, MULTIPART_CT).json()["nform"] == 5
    assert post(srv, "/form_urlencoded", urlencoded_body(200),
                "application/x-www-form-urlencoded").status == 200
    assert post(srv, "/set_form_limits?fms=100&parts=3", b"").status == 200
    got = srv.get("/limits").json()
    assert (got["max_form_memory_size"], got["max_form_parts"]) == (100, 3)
    assert post(srv, "/limits", five, MULTIPART_CT).status == 413
    assert post(srv, "/form_urlencoded", urlencoded_body(200),
                "application/x-www-form-urlencoded").status == 413
    # raised again past the policy: the policy's
    assert post(srv, "/set_form_limits?fms=1000000000&parts=1000000",
                b"").status == 200
    got = srv.get("/limits").json()
    assert (got["max_form_memory_size"], got["max_form_parts"]) == (FMS, PARTS)
    assert post(srv, "/limits", five, MULTIPART_CT).json()["nform"] == 5


# --------------------------------------------------------------------------
# The largest limit a policy can write, 1 TiB (issue 13: `room + 1`
# overflowed in the bounded stream; UBSan reports it in the sanitizer
# build; larger values are refused by the policy, test_policy).

LARGEST = 2 ** 40


@pytest.mark.parametrize("kind", KINDS)
def test_largest_limit_does_not_overflow(stack, shield, tmp_path,
                                         start_server, kind):
    pol = policy(tmp_path, mcl="%dL" % LARGEST)
    srv = start(start_server, kind, stack, tmp_path, app_source(), pol,
                extra_args=gunicorn_args(kind))
    assert srv.get("/limits").json()["config"] == LARGEST
    body = raw_body(3 * LIMIT)
    for reader in ("get_data", "stream", "stream_iter", "wsgi_read",
                   "wsgi_iter"):
        for heads, chunked in ({"Transfer-Encoding": "chunked"}, True), \
                ({"Content-Length": "9",
                  "Transfer-Encoding": "chunked"}, True), \
                ({"Content-Length": str(len(body))}, False):
            if kind == "waitress" and len(heads) == 2:
                continue        # waitress: the same as chunked
            ex = exchange(srv.port, "/" + reader, framed(body, chunked),
                          dict(heads, **{"Content-Type":
                                         "application/octet-stream"}))
            assert ex.status == 200, (reader, heads, ex)
            assert ex.json()["sha"] == hashlib.sha256(body).hexdigest()
    assert "runtime error" not in srv.stderr_text(), srv.stderr_text()


# --------------------------------------------------------------------------
# Empty bodies return at once, with and without a length, chunked or not
# (dd-trace-py 7265: a POST without a body hung).

EMPTY_FRAMINGS = {
    "cl0": ({"Content-Length": "0"}, False),
    "none": ({}, False),
    "chunked": ({"Transfer-Encoding": "chunked"}, True),
    "cl+te": ({"Content-Length": "0", "Transfer-Encoding": "chunked"}, True),
}


@pytest.mark.parametrize("kind", KINDS)
def test_empty_bodies_return_at_once(stack, shield, tmp_path, start_server,
                                     kind):
    srv = start(start_server, kind, stack, tmp_path, app_source(),
                policy(tmp_path), extra_args=gunicorn_args(kind))
    for framing, (heads, chunked) in EMPTY_FRAMINGS.items():
        for reader in ("get_data", "data", "stream", "stream_iter",
                       "wsgi_read", "wsgi_iter"):
            t0 = time.monotonic()
            ex = exchange(srv.port, "/" + reader, framed(b"", chunked),
                          dict(heads, **{"Content-Type":
                                         "application/octet-stream"}),
                          timeout=10)
            assert ex.status == 200 and ex.json()["len"] == 0, \
                (framing, reader, ex)
            assert time.monotonic() - t0 < 5, (framing, reader)


# --------------------------------------------------------------------------
# A declared length within the cap is read up to that length and no further
# (issue 19: such a body is no longer read through Werkzeug 3's
# LimitedStream at the cap, and on a stream the server ends itself
# Werkzeug hands the server's stream through as it is).  A middleware inside
# app.wsgi_app puts a stream that holds more than CONTENT_LENGTH says, as a
# buggy middleware or a server that does not frame by Content-Length would,
# with the server's wsgi.input_terminated kept or dropped: every reader of
# the request sees exactly the declared body.  (environ["wsgi.input"] is
# then the middleware's own stream, which the app reads as it is, with or
# without the library.)  Before: Werkzeug 2.2 read the whole stream (the
# extra bytes, past the cap), Werkzeug 3.1 answered 413 at the cap.

OVERFLOW = '''
import io


class Overflow:
    """X-Overflow: N: a stream with N bytes more than the declared body;
    X-Unterminated: without wsgi.input_terminated."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        extra = environ.get("HTTP_X_OVERFLOW")
        if extra:
            body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
            environ["wsgi.input"] = io.BytesIO(body + b"x" * int(extra))
            if environ.get("HTTP_X_UNTERMINATED"):
                environ.pop("wsgi.input_terminated", None)
        return self.app(environ, start_response)


app.wsgi_app = Overflow(app.wsgi_app)
'''

DECLARED_READERS = ("get_data", "data", "get_json", "stream", "stream_iter",
                    "form_urlencoded", "form_multipart", "files")


@pytest.mark.parametrize("kind", KINDS)
def test_declared_length_bounds_an_overflowing_stream(stack, shield, tmp_path,
                                                      start_server, kind):
    srv = start(start_server, kind, stack, tmp_path,
                app_source(setup=OVERFLOW), policy(tmp_path, fms=LIMIT))
    failures = []
    for reader in DECLARED_READERS:
        make, ctype, part = READERS[reader]
        for size in (1000, LIMIT):
            for terminated in (True, False):
                body = make(size)
                rid = "%s-%d-%s" % (reader, size, terminated)
                h = {"X-Overflow": str(4 * LIMIT)}
                if not terminated:
                    h["X-Unterminated"] = "1"
                ex = post(srv, "/" + reader, body, ctype, rid=rid, headers=h)
                if ex.status != 200:
                    failures.append("%s: %r" % (rid, ex))
                elif ex.json()["sha"] != hashlib.sha256(part(body)).hexdigest():
                    failures.append("%s: app saw %d bytes, declared %d"
                                    % (rid, ex.json()["len"], size))
    assert srv.alive()
    assert not failures, "\n".join(failures)


# Per server: a client that sends more bytes than its Content-Length, or
# bytes with neither Content-Length nor Transfer-Encoding.  Every server
# that sets wsgi.input_terminated frames the body by Content-Length
# (gunicorn's LengthReader, waitress's FixedStreamReceiver, Apache's
# HTTP_IN for mod_wsgi); uWSGI reads CONTENT_LENGTH bytes; the development
# server hands its socket on, which Werkzeug bounds at the declared length
# for its own readers and the library for the app's direct reads of
# environ["wsgi.input"].  What follows is the next request on the
# connection, never the app's body.

DIRECT_READERS = ("wsgi_read", "wsgi_chunks", "wsgi_readline",
                  "wsgi_readlines", "wsgi_iter")
WIRE_READERS = ("get_data", "data", "stream", "stream_iter",
                "form_urlencoded", "form_multipart", "files") + DIRECT_READERS


@pytest.mark.parametrize("kind", WIRE_KINDS)
def test_declared_length_bounds_the_wire_per_server(stack, shield, tmp_path,
                                                    start_server, kind):
    srv = start(start_server, kind, stack, tmp_path, app_source(),
                policy(tmp_path, fms=LIMIT), workers=1)
    failures = []
    for reader in WIRE_READERS:
        make, ctype, part = READERS[reader]
        for size in (1000, LIMIT):
            body = make(size)
            rid = "%s-%d" % (reader, size)
            h = {"Content-Type": ctype, "X-Id": rid,
                 "Content-Length": str(size)}
            ex = exchange(srv.port, "/" + reader,
                          [body, b"y" * (2 * LIMIT)], h)
            if ex.status != 200:
                failures.append("%s: %r" % (rid, ex))
            elif ex.json()["sha"] != hashlib.sha256(part(body)).hexdigest():
                failures.append("%s: app saw %d bytes, declared %d"
                                % (rid, ex.json()["len"], size))
    for reader in DIRECT_READERS + ("get_data",):
        rid = "%s-no-length" % reader
        ex = exchange(srv.port, "/" + reader, [b"z" * (2 * LIMIT)],
                      {"Content-Type": "application/octet-stream",
                       "X-Id": rid})
        if ex.status != 200 or ex.json()["len"] != 0:
            failures.append("%s: want a 200 with no body, got %r" % (rid, ex))
    assert srv.alive()
    assert not failures, "\n".join(failures)


# The development server (`flask run`, `app.run()`, werkzeug.serving) hands
# the app its socket file as environ["wsgi.input"], with no
# wsgi.input_terminated: an app that reads it directly -- read(), read(n)
# in a loop, readline(), readlines(), iteration -- reads what the client
# sends, not the body it declared.  The client here sends more than its
# Content-Length (a pipelined second request, or far more than the cap)
# and shuts its side down, so that such a read comes to an end.  Every
# direct reader must see exactly the declared body, as under the other
# servers (test_declared_length_bounds_the_wire_per_server), and a request
# with neither Content-Length nor Transfer-Encoding has no body; a declared
# length over the cap is refused before the view runs, a chunked body over
# it while the view reads.  Before: the app read the pipelined request and
# every byte after the body (or in place of none), past the cap.

DEV_SERVER = '''
if __name__ == "__main__":
    if os.environ["ENTRY"] == "make_server":
        from werkzeug.serving import make_server
        make_server("127.0.0.1", int(os.environ["PORT"]), app).serve_forever()
    elif os.environ["ENTRY"] == "wsgiref":
        from wsgiref.simple_server import make_server
        make_server("127.0.0.1", int(os.environ["PORT"]), app).serve_forever()
    elif os.environ["ENTRY"] == "wsgiref, own name":
        from wsgiref.simple_server import WSGIRequestHandler, make_server
        class Handler(WSGIRequestHandler):
            server_version = "MyApp/2.0"
        make_server("127.0.0.1", int(os.environ["PORT"]), app,
                    handler_class=Handler).serve_forever()
    else:
        app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
'''
# the standard library's wsgiref.simple_server hands over its socket file
# the same way, whatever its handler calls itself in SERVER_SOFTWARE
DEV_ENTRIES = ("flask run", "Flask.run", "make_server", "wsgiref",
               "wsgiref, own name")


@pytest.mark.parametrize("entry", DEV_ENTRIES)
def test_dev_server_wsgi_input_is_the_declared_body(stack, shield, tmp_path,
                                                    start_server, entry):
    kind = "flask-run" if entry == "flask run" else "script"
    srv = start(start_server, kind, stack, tmp_path,
                app_source(setup=DEV_SERVER), policy(tmp_path),
                env={"ENTRY": entry})
    pipelined = b"GET /limits HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    trailers = {"pipelined": pipelined, "past-the-cap": b"y" * (4 * LIMIT)}
    failures = []
    for reader in DIRECT_READERS:
        for what, extra in trailers.items():
            body = raw_body(1000)
            rid = "%s-%s" % (reader, what)
            h = {"Content-Type": "application/octet-stream", "X-Id": rid,
                 "Content-Length": str(len(body))}
            ex = exchange(srv.port, "/" + reader, [body, extra], h,
                          timeout=15, half_close=True)
            if ex.status != 200:
                failures.append("%s: %r" % (rid, ex))
            elif ex.json()["sha"] != hashlib.sha256(body).hexdigest():
                failures.append("%s: app saw %d bytes, declared %d"
                                % (rid, ex.json()["len"], len(body)))
        # no Content-Length, no Transfer-Encoding: no body, whatever follows
        rid = "%s-no-length" % reader
        ex = exchange(srv.port, "/" + reader, [b"z" * (4 * LIMIT)],
                      {"Content-Type": "application/octet-stream",
                       "X-Id": rid}, timeout=15, half_close=True)
        if ex.status != 200 or ex.json()["len"] != 0:
            failures.append("%s: want a 200 with no body, got %r" % (rid, ex))
        for chunked in (False, True):
            body = raw_body(4 * LIMIT)
            rid = "%s-over-%s" % (reader, "chunked" if chunked else "cl")
            ex = post(srv, "/" + reader, body, chunked=chunked, rid=rid,
                      timeout=15)
            recs = [r for r in records(srv.body_log) if r["id"] == rid]
            failures += bounded_outcome(rid, ex, recs, len(body), body)
            if not chunked and recs:
                failures.append("%s: declared length over the limit but the "
                                "view ran %r" % (rid, recs))
    assert srv.alive()
    assert not failures, "\n".join(failures)
