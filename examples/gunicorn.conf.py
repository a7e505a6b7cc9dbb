"""gunicorn.conf.py -- gunicorn for factory_app, under flaskshield.

    flaskshield run -- gunicorn -c gunicorn.conf.py
or, with the library in /etc/ld.so.preload (flaskshield enable):
    gunicorn -c gunicorn.conf.py

The library must be preloaded before gunicorn starts (LD_PRELOAD or
/etc/ld.so.preload); a config file cannot do it.  It then attaches to the
master and to every worker.  The policy comes from /etc/flaskshield/policy.conf
or FLASKSHIELD_POLICY.  Bind address from $HOST and $PORT (default
127.0.0.1:8000); nginx.conf in this folder proxies to it.
"""

import os

_here = os.path.dirname(os.path.abspath(__file__))

wsgi_app = "factory_app:create_app()"
chdir = _here
bind = "%s:%s" % (os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000"))
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Behind nginx on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = "127.0.0.1"
# flaskshield logs one JSON object a line on stderr: keep gunicorn's own
# logs there too, so one collector sees both.
errorlog = "-"
accesslog = None
graceful_timeout = 5
