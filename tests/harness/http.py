"""http -- the HTTP client of the tests: one request on a fresh connection.

Server.get/post/request and tests/bench/bench.py go through http_request.
Tests of the wire itself (test_body's exchange(), which reads the response
while it writes the body; test_point_of_use's raw_post(), one write) speak
HTTP on a socket of their own on purpose, and test_secret_key's get_many()
opens http.client connections before it sends on them (to reach every
gunicorn worker), building the same Response.
"""

import http.client
import json

# --------------------------------------------------------------------------
# Timeouts (seconds).  Everything the harness waits for is bounded.
HTTP_TIMEOUT = 15.0      # one HTTP exchange


class Response(tuple):
    """(status, headers, body); also .status, .headers (HTTPMessage,
    case-insensitive .get), .body (bytes), .text (str)."""

    def __new__(cls, status, headers, body):
        return tuple.__new__(cls, (status, headers, body))

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    body = property(lambda self: self[2])
    text = property(lambda self: self[2].decode("utf-8", "replace"))

    def json(self):
        return json.loads(self[2])


def http_request(port, method, path, body=None, headers=None, chunked=False,
                 chunk_size=16384, timeout=HTTP_TIMEOUT, host="127.0.0.1"):
    """One request on a fresh connection; returns a Response.

    chunked=True sends `body` with Transfer-Encoding: chunked (chunks of
    `chunk_size`, written by hand with putrequest/send) and no Content-Length.
    """
    headers = dict(headers or {})
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if chunked:
            conn.putrequest(method, path)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            data = body or b""
            for i in range(0, len(data), chunk_size):
                piece = data[i:i + chunk_size]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")
        else:
            conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return Response(r.status, r.headers, r.read())
    finally:
        conn.close()
