#!/usr/bin/env bash
# tools/install-deps.sh -- install the Debian packages flaskshield needs to
# build, test, benchmark and run its examples (Debian 12, as root).
#
# Only what is missing is installed, so running it again costs a dpkg query.
# The packages' maintainer scripts are kept from starting apache2 and nginx
# (a temporary policy-rc.d answering 101): the tests start their own
# instances on free loopback ports.  Used by `make deps` and by .ci/run.
set -euo pipefail

PACKAGES=(
    build-essential libconfig-dev python3-dev valgrind          # build, sanitizers
    clang libclang-rt-14-dev                                    # make fuzz (libFuzzer)
    python3-flask python3-pytest                                # the Debian stack, tests
    gunicorn python3-gunicorn python3-waitress                  # WSGI servers
    uwsgi-core uwsgi-plugin-python3
    apache2 libapache2-mod-wsgi-py3
    python3-sentry-sdk python3-dynaconf python3-flask-socketio   # extensions that reach the settings
    python3-flask-login
    python3-prometheus-client                                   # parses `flaskshield metrics`
    python3-flask-talisman                                      # side-by-side tests and bench of the headers
    nginx curl wrk hyperfine strace groff-base                  # examples, bench, man pages
    debhelper dpkg-dev fakeroot lintian                         # make deb
    debootstrap procps python3-yaml systemd                     # make image-test (pgrep), deployment examples (systemd-analyze)
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#PACKAGES[@]} packages installed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing ${missing[*]}; run as root (apt-get)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
policy_rc=/usr/sbin/policy-rc.d
if [ ! -e "$policy_rc" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy_rc"
    chmod 755 "$policy_rc"
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "deps: installing ${missing[*]}"
apt-get update
apt-get install -y "${missing[@]}"
# Should an image start them anyway, stop them; nothing here needs them.
service apache2 stop >/dev/null 2>&1 || true
service nginx stop >/dev/null 2>&1 || true
