#!/bin/sh
# waitress_serve.sh -- serve factory_app with waitress, under flaskshield.
#
#   FLASK_SECRET_KEY=... ./waitress_serve.sh
#
# `flaskshield run` preloads the library for this one command (no need for
# /etc/ld.so.preload); FLASKSHIELD_POLICY, if set, names the policy.
# $PYTHON (default python3), $HOST (127.0.0.1) and $PORT (8080) may be set.
set -eu
cd "$(dirname "$0")"
exec flaskshield run -- "${PYTHON:-python3}" -m waitress \
    --listen="${HOST:-127.0.0.1}:${PORT:-8080}" --threads=4 \
    --call factory_app:create_app
