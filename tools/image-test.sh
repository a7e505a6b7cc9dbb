#!/usr/bin/env bash
# tools/image-test.sh -- the Debian package in a minimal Debian 12 root file
# system, as a base image would have it (`make image-test`, as root).
#
#   tools/image-test.sh build/flaskshield_VERSION_ARCH.deb
#
# 1. A minimal bookworm root (debootstrap --variant=minbase) with Debian's
#    python3-flask and gunicorn, and libconfig9 downloaded but not installed,
#    is built once and kept in $IMAGE_CACHE (default .cache/image); a run
#    works on a copy in $IMAGE_WORK (default build/image-test).
# 2. `apt-get install ./flaskshield.deb`: apt must pull libconfig9 in (from
#    the root's own package cache) because of the package's Depends.
#    Checked: the policy is a conffile, the man pages are compressed,
#    /etc/ld.so.preload was not touched, the runtime folder /run/flaskshield
#    is there (mode 1777) and has its tmpfiles.d line.
# 3. examples/vulnerable_app.py (app.run(debug=True)) without the library:
#    the debugger's console answers (the checks below can fail).
# 4. `flaskshield enable` (no warning: the installed library), then, from
#    outside over HTTP on loopback: gunicorn with the shipped policy refuses
#    the weak key "dev" (500, secret_key.rejected); with the key only warned
#    about: no console (404), no traceback, 200 on /, 413 for a 20 MiB body,
#    `flaskshield ps` lists gunicorn (its records in /run/flaskshield);
#    app.run(debug=True): debug forced off, no console.  Every flaskshield
#    log line is one JSON object.
# 5. `apt-get remove flaskshield`: prerm disables the preload; programs run
#    in the root afterwards print no loader error (and a stale entry written
#    on purpose does make them print one); `dpkg --purge` removes the policy.
# 6. examples/Dockerfile is built where a Docker daemon answers; else that
#    part alone is skipped, with a message.
#
# Every command in the root runs in its own mount and PID namespace
# (unshare) with /proc and /dev mounted there, so its mounts and processes
# end with it; the EXIT trap also stops the servers and checks that no
# mount and no process is left under the root.  Environment: IMAGE_CACHE,
# IMAGE_WORK, MIRROR (default http://deb.debian.org/debian), KEEP=1 keeps
# the work copy.
set -euo pipefail

DEB=${1:?usage: tools/image-test.sh FLASKSHIELD.deb}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$(mkdir -p "${IMAGE_CACHE:-$REPO/.cache/image}" && cd "${IMAGE_CACHE:-$REPO/.cache/image}" && pwd)
WORK=$(mkdir -p "${IMAGE_WORK:-$REPO/build/image-test}" && cd "${IMAGE_WORK:-$REPO/build/image-test}" && pwd)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
ROOT=$WORK/root
LOGS=$WORK/logs
HOSTPY=/usr/bin/python3
CACHE_KEY="v1 $SUITE minbase $MIRROR python3-flask gunicorn (libconfig9 downloaded)"

START=$SECONDS
step() { printf '\n== image-test [%3ds] %s\n' "$((SECONDS - START))" "$*"; }
fail() { printf 'image-test: FAILED: %s\n' "$*" >&2; exit 1; }
ok() { printf '  ok   %s\n' "$*"; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (debootstrap, chroot)"
[ -f "$DEB" ] || fail "$DEB: no such package (make deb)"
DEB=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")
for tool in debootstrap unshare nsenter pgrep chroot curl findmnt; do
    command -v "$tool" >/dev/null || fail "$tool is missing (make deps)"
done

# ---- running things in a root ------------------------------------------

# in_root ROOT [VAR=VALUE...] COMMAND...: COMMAND in ROOT, in a new mount
# and PID namespace with /proc and /dev; a small fixed environment.  When
# unshare dies (even by SIGKILL), its child, the namespace's init, is killed
# and every process of the namespace with it; its mounts go with it.
root_argv() {       # ROOT_ARGV: the unshare command line of in_root
    ROOT_ARGV=(unshare --mount --pid --fork --kill-child --propagation private --
        /bin/sh -c 'root=$1; shift
            mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" \
                && exec chroot "$root" /usr/bin/env -i \
                    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"'
        in_root "$@")
}
in_root() { root_argv "$@"; "${ROOT_ARGV[@]}"; }

SERVER_PID=
# start_server NAME COMMAND...: COMMAND in $ROOT in the background (sh -c
# sees $PORT, a free loopback port), its output in $LOGS/NAME.log; waits
# until it answers.
start_server() {
    local name=$1; shift
    PORT=$("$HOSTPY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    LOG=$LOGS/$name.log
    root_argv "$ROOT" PORT="$PORT" "$@"
    "${ROOT_ARGV[@]}" >"$LOG" 2>&1 &         # $! is unshare itself
    SERVER_PID=$!
    local i
    for i in $(seq 1 300); do
        if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/nothing-here"; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG" >&2; fail "$name exited"; }
        sleep 0.1
    done
    cat "$LOG" >&2
    fail "$name did not answer on 127.0.0.1:$PORT within 30 s"
}

# in_server_ns COMMAND...: COMMAND in the running server's namespaces and
# root (its PID namespace: `flaskshield ps` sees the processes of the
# namespace it runs in, and the records name their pids there).
in_server_ns() {
    local init
    init=$(pgrep -P "$SERVER_PID" | head -n 1)
    [ -n "$init" ] || fail "no process in the server's namespace"
    nsenter --target "$init" --mount --pid --root -- /usr/bin/env -i \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        /bin/sh -c 'cd / && exec "$@"' sh "$@"
}

# stop_server: SIGKILL to unshare ends the server's namespace; wait until
# no process is left in the root.
stop_server() {
    local i
    if [ -n "$SERVER_PID" ]; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
        for i in $(seq 1 100); do
            [ -n "$(procs_in "$ROOT")" ] || break
            sleep 0.1
        done
    fi
}

# Processes whose root directory is $1 (or under it), and mounts under it.
procs_in() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case "$r" in "$1"|"$1"/*) echo "${p#/proc/}" ;; esac
    done
}
mounts_in() { findmnt -rn -o TARGET | awk -v r="$1" 'index($0, r "/") == 1' | sort -r; }

cleanup() {
    local rc=$? left
    stop_server
    for root in "$ROOT" "$CACHE/rootfs.new"; do
        left=$(procs_in "$root")
        if [ -n "$left" ]; then
            echo "image-test: killing processes left in $root: $left" >&2
            kill -KILL $left 2>/dev/null || true
            rc=1
        fi
        left=$(mounts_in "$root")
        if [ -n "$left" ]; then
            echo "image-test: unmounting what is left under $root: $left" >&2
            echo "$left" | while read -r m; do umount -l "$m" || true; done
            rc=1
        fi
    done
    if [ "$rc" -eq 0 ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$ROOT"
    elif [ -d "$ROOT" ]; then
        echo "image-test: the root is kept in $ROOT (logs in $LOGS)" >&2
    fi
    printf 'image-test: %s after %d s\n' "$([ "$rc" -eq 0 ] && echo OK || echo FAILED)" \
        "$((SECONDS - START))"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- HTTP checks, from outside the root -------------------------------

# get METHOD PATH [curl args...]: sets STATUS and BODY (a file).
BODY=$WORK/body
get() {
    local method=$1 path=$2; shift 2
    STATUS=$(curl -s -o "$BODY" -w '%{http_code}' --max-time 30 -X "$method" \
             -H 'Expect:' "$@" "http://127.0.0.1:$PORT$path") || true
}
# post_declared PATH LENGTH: a POST that declares a body of LENGTH bytes and
# waits for the answer before sending any of it (a server that refuses a
# body unread closes with the rest unread: a client still sending gets a
# reset instead of the answer).  Sets STATUS and BODY.
post_declared() {
    STATUS=$("$HOSTPY" - "$PORT" "$1" "$2" "$BODY" <<'EOF'
import http.client, sys
port, path, length, out = sys.argv[1:]
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
conn.putrequest("POST", path)
conn.putheader("Content-Type", "application/octet-stream")
conn.putheader("Content-Length", length)
conn.endheaders()
r = conn.getresponse()
open(out, "wb").write(r.read())
print(r.status)
EOF
) || STATUS=000
}
expect_status() {   # expect_status WANT WHAT
    [ "$STATUS" = "$1" ] || { head -c 2000 "$BODY" >&2; fail "$2: HTTP $STATUS, expected $1"; }
}
expect_no() {       # expect_no WHAT WORD...: none of the words in BODY
    local what=$1 w; shift
    for w in "$@"; do
        ! grep -qF "$w" "$BODY" || fail "$what: the response shows '$w'"
    done
}
# log_events LOG: the events of the flaskshield lines, one a line; fails
# when such a line is not one JSON object.
log_events() {
    "$HOSTPY" - "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if '"src":"flaskshield"' not in line:
        continue
    ev = json.loads(line)
    assert ev["src"] == "flaskshield" and ev["event"], line
    print(ev["event"])
EOF
}
expect_events() {   # expect_events NAME EVENT...
    local name=$1 events e; shift
    events=$(log_events "$LOGS/$name.log") || fail "$name: a flaskshield log line is not JSON"
    for e in "$@"; do
        grep -qx "$e" <<<"$events" || { cat "$LOGS/$name.log" >&2; fail "$name: no $e event in the log"; }
    done
    ok "$name log: $(echo $events | tr ' ' ',')"
}

# ---- 1. the cached root --------------------------------------------------

step "root file system ($SUITE, cache $CACHE)"
if [ -d "$CACHE/rootfs" ] && [ "$(cat "$CACHE/rootfs.key" 2>/dev/null)" = "$CACHE_KEY" ]; then
    ok "cached: $CACHE/rootfs"
else
    rm -rf "$CACHE/rootfs.new" "$CACHE/rootfs" "$CACHE/rootfs.key"
    timeout 1800 debootstrap --variant=minbase "$SUITE" "$CACHE/rootfs.new" "$MIRROR" \
        >"$CACHE/debootstrap.log" 2>&1 \
        || { tail -n 30 "$CACHE/debootstrap.log" >&2; fail "debootstrap (log: $CACHE/debootstrap.log)"; }
    in_root "$CACHE/rootfs.new" apt-get install -y --no-install-recommends \
        python3-flask gunicorn >>"$CACHE/debootstrap.log" 2>&1 \
        || { tail -n 30 "$CACHE/debootstrap.log" >&2; fail "apt-get install python3-flask gunicorn"; }
    in_root "$CACHE/rootfs.new" apt-get install -y --download-only libconfig9 \
        >>"$CACHE/debootstrap.log" 2>&1 || fail "apt-get --download-only libconfig9"
    mv "$CACHE/rootfs.new" "$CACHE/rootfs"
    echo "$CACHE_KEY" >"$CACHE/rootfs.key"
    ok "built: $CACHE/rootfs"
fi
rm -rf "$ROOT" "$LOGS"
mkdir -p "$LOGS"
cp -a "$CACHE/rootfs" "$ROOT"
mkdir -p "$ROOT/srv/app"
cp "$REPO/examples/vulnerable_app.py" "$ROOT/srv/app/"

# ---- 2. install ----------------------------------------------------------

step "apt-get install $(basename "$DEB")"
! in_root "$ROOT" dpkg -s libconfig9 >/dev/null 2>&1 || fail "libconfig9 is in the cached root already"
cp "$DEB" "$ROOT/tmp/"
in_root "$ROOT" apt-get install -y "/tmp/$(basename "$DEB")" >"$LOGS/install.log" 2>&1 \
    || { cat "$LOGS/install.log" >&2; fail "apt-get install of the package"; }
in_root "$ROOT" dpkg -s libconfig9 >/dev/null || fail "libconfig9 was not installed with the package"
ok "installed, libconfig9 pulled in by Depends"
in_root "$ROOT" dpkg-query -W -f='${Conffiles}\n' flaskshield | grep -q '^ /etc/flaskshield/policy.conf ' \
    || fail "/etc/flaskshield/policy.conf is not a conffile"
ok "conffile: /etc/flaskshield/policy.conf"
for page in man1/flaskshield.1.gz man5/flaskshield.conf.5.gz; do
    [ -f "$ROOT/usr/share/man/$page" ] || fail "no /usr/share/man/$page"
done
ok "man pages compressed"
[ ! -e "$ROOT/etc/ld.so.preload" ] || fail "installing the package wrote /etc/ld.so.preload"
ok "postinst left /etc/ld.so.preload alone"
grep -qx 'd /run/flaskshield 1777 root root -' "$ROOT/usr/lib/tmpfiles.d/flaskshield.conf" \
    || fail "no tmpfiles.d line for /run/flaskshield"
[ "$(stat -c '%a %U' "$ROOT/run/flaskshield" 2>/dev/null)" = "1777 root" ] \
    || fail "/run/flaskshield: $(stat -c '%a %U' "$ROOT/run/flaskshield" 2>&1)"
ok "runtime folder: tmpfiles.d line, /run/flaskshield 1777 root (postinst, no systemd-tmpfiles here)"

# ---- 3. without the library ----------------------------------------------

step "vulnerable_app.py (app.run(debug=True)) without the library"
start_server plain-app /usr/bin/python3 /srv/app/vulnerable_app.py
get GET /console
expect_status 200 "without the library, GET /console"
grep -qF "Werkzeug Debugger" "$BODY" || fail "without the library, /console is not the debugger"
ok "GET /console -> 200, the Werkzeug debugger's console"
stop_server

# ---- 4. enabled ------------------------------------------------------------

step "flaskshield enable"
in_root "$ROOT" flaskshield enable >"$LOGS/enable.out" 2>"$LOGS/enable.err" \
    || { cat "$LOGS/enable.out" "$LOGS/enable.err" >&2; fail "flaskshield enable"; }
[ ! -s "$LOGS/enable.err" ] || { cat "$LOGS/enable.err" >&2; fail "flaskshield enable printed on stderr"; }
[ "$(cat "$ROOT/etc/ld.so.preload")" = /usr/lib/flaskshield/libflaskshield.so ] \
    || fail "/etc/ld.so.preload: $(cat "$ROOT/etc/ld.so.preload")"
ok "/etc/ld.so.preload: /usr/lib/flaskshield/libflaskshield.so"

step "gunicorn, the shipped policy"
start_server gunicorn-default /bin/sh -c \
    'exec gunicorn --bind "127.0.0.1:$PORT" --chdir /srv/app vulnerable_app:app'
get GET /
expect_status 500 "shipped policy, weak key, GET /"
expect_no "shipped policy, GET /" hello Traceback
ok "GET / -> 500 (the weak key \"dev\" refused)"
stop_server
expect_events gunicorn-default activate secret_key.rejected

step "gunicorn, FLASK_DEBUG=1, the weak key only warned about"
printf 'version = 1;\nsecret_key = { on_violation = "warn"; };\n' >"$ROOT/etc/flaskshield/policy.conf"
start_server gunicorn-warn /bin/sh -c \
    'FLASK_DEBUG=1 exec gunicorn --bind "127.0.0.1:$PORT" --chdir /srv/app vulnerable_app:app'
get GET /console
expect_status 404 "GET /console"
expect_no "GET /console" "Werkzeug Debugger"
get GET /boom
expect_status 500 "GET /boom"
expect_no "GET /boom" Traceback RuntimeError vulnerable_app.py
get GET /
expect_status 200 "GET /"
grep -q "hello, visit 1" "$BODY" || fail "GET /: $(head -c 200 "$BODY")"
post_declared /upload $((20 << 20))
expect_status 413 "POST 20 MiB"
ok "GET /console -> 404, GET /boom -> 500 without a traceback, GET / -> 200, POST 20 MiB -> 413"
in_server_ns flaskshield ps >"$LOGS/ps.out" 2>&1 || { cat "$LOGS/ps.out" >&2; fail "flaskshield ps"; }
grep -q gunicorn "$LOGS/ps.out" || { cat "$LOGS/ps.out" >&2; fail "flaskshield ps does not list gunicorn"; }
ok "flaskshield ps lists the gunicorn processes (records in /run/flaskshield)"
stop_server
expect_events gunicorn-warn activate debug.forced_off body.capped

step "vulnerable_app.py (app.run(debug=True)) with the library"
start_server shielded-app /usr/bin/python3 /srv/app/vulnerable_app.py
get GET /console
expect_status 404 "with the library, GET /console"
expect_no "with the library, GET /console" "Werkzeug Debugger"
get GET /boom
expect_status 500 "with the library, GET /boom"
expect_no "with the library, GET /boom" Traceback RuntimeError
ok "GET /console -> 404, GET /boom -> 500 without a traceback"
stop_server
expect_events shielded-app debug.forced_off dev_server.used

# ---- 5. removal -------------------------------------------------------------

step "apt-get remove flaskshield"
in_root "$ROOT" apt-get remove -y flaskshield >"$LOGS/remove.log" 2>&1 \
    || { cat "$LOGS/remove.log" >&2; fail "apt-get remove flaskshield"; }
[ ! -e "$ROOT/usr/lib/flaskshield/libflaskshield.so" ] || fail "the library is still there"
! grep -qs flaskshield "$ROOT/etc/ld.so.preload" || fail "/etc/ld.so.preload still lists the library"
[ -f "$ROOT/etc/flaskshield/policy.conf" ] || fail "remove took the modified conffile"
ok "prerm disabled the preload; the library is gone, the edited policy kept"
# run_programs NAME: a few programs in the root; prints what they wrote to stderr.
run_programs() {
    in_root "$ROOT" /bin/sh -c 'true; ls / >/dev/null; python3 -c "print(1)" >/dev/null;
        dpkg -l >/dev/null; apt-cache policy >/dev/null; env >/dev/null' 2>&1 >/dev/null || true
}
out=$(run_programs)
[ -z "$out" ] || fail "programs in the root print after the removal: $out"
ok "true, ls, python3, dpkg, apt-cache, env: nothing on stderr"
# The same programs with a stale entry: the loader's complaint is seen.
echo /usr/lib/flaskshield/libflaskshield.so >"$ROOT/etc/ld.so.preload"
out=$(run_programs)
rm -f "$ROOT/etc/ld.so.preload"
grep -q "ld.so" <<<"$out" || fail "a stale preload entry went unnoticed (the check above proves nothing)"
ok "(control: a stale entry makes them print: $(head -n1 <<<"$out"))"
in_root "$ROOT" dpkg --purge flaskshield >"$LOGS/purge.log" 2>&1 \
    || { cat "$LOGS/purge.log" >&2; fail "dpkg --purge flaskshield"; }
[ ! -e "$ROOT/etc/flaskshield" ] || fail "purge left /etc/flaskshield"
ok "purged: /etc/flaskshield removed"

# ---- 6. the Dockerfile -----------------------------------------------------

step "examples/Dockerfile"
if ! command -v docker >/dev/null; then
    echo "  SKIPPED: no docker command; examples/Dockerfile not built"
elif ! why=$(docker info 2>&1 >/dev/null); then
    echo "  SKIPPED: no Docker daemon answers ($(tail -n1 <<<"$why")); examples/Dockerfile not built"
else
    docker build -f "$REPO/examples/Dockerfile" -t flaskshield-image-test "$REPO"
    docker run --rm flaskshield-image-test flaskshield status
    docker run --rm flaskshield-image-test /bin/sh -c \
        'grep -qx /usr/lib/flaskshield/libflaskshield.so /etc/ld.so.preload'
    ok "examples/Dockerfile built; the image preloads the library"
fi
