"""logs -- read the library's log lines out of a program's output.

Logs: the library writes one JSON object a line to stderr.  Every server's
stderr (and Apache's ErrorLog, where mod_wsgi processes' stderr lands) is kept
in a file; ``parse_log`` / ``Server.log_lines()`` return the flaskshield
objects (``"src": "flaskshield"``) and ignore everything else.
"""

import json


def parse_log(text):
    """The flaskshield JSON objects in `text` (a str or bytes), in order.

    A line counts if it is a JSON object with "src" == "flaskshield", either
    the whole line or from its first "{" on (tolerates a prefix such as
    Apache's "[wsgi:error] [pid N] "); other lines are ignored.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out = []
    for line in text.splitlines():
        i = line.find("{")
        if i < 0:
            continue
        for cand in (line.strip(), line[i:].strip()):
            try:
                obj = json.loads(cand)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("src") == "flaskshield":
                out.append(obj)
            break
    return out


def find_events(lines, event=None, **fields):
    """The log objects whose "event" is `event` and whose fields match."""
    return [o for o in lines
            if (event is None or o.get("event") == event)
            and all(o.get(k) == v for k, v in fields.items())]
