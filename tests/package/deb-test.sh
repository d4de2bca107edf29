#!/bin/sh
# deb-test.sh - check the Debian package (make deb-test; docs/operations.md).
#
# Unpacks the .deb into a fresh root with dpkg-deb (no dpkg database, no
# maintainer script runs), then checks:
#   - the files: /usr/bin/kizuna, /etc/kizuna/kizuna.yaml (a conffile),
#     /var/lib/kizuna, the systemd unit; the postinst creates the kizuna
#     system user;
#   - the unit: `systemd-analyze verify` in that root, and the exposure of
#     `systemd-analyze security --offline=yes` (printed; must be <= MAX_EXPOSURE);
#   - the binary: as the service user (setpriv) (created on this machine with the
#     postinst's own adduser line when missing), on a temporary copy of the
#     packaged configuration (ports 0, a temporary data directory), it
#     starts, answers /healthz and /readyz, and stops cleanly on SIGTERM.
# Usage: deb-test.sh PACKAGE.deb   (as root: it runs the binary as kizuna)
set -eu

deb=${1:?usage: deb-test.sh PACKAGE.deb}
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
[ "$(id -u)" = 0 ] || { echo "deb-test: run as root (setpriv, adduser)" >&2; exit 1; }

root=$(mktemp -d /tmp/kizuna-deb-root.XXXXXX)
work=$(mktemp -d /tmp/kizuna-deb-run.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$root" "$work"
}
trap cleanup EXIT INT TERM

fail() { echo "deb-test: FAIL: $*" >&2; exit 1; }
ok() { echo "deb-test: ok: $*"; }

# ---- contents ----------------------------------------------------------------
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$root/DEBIAN"
unit=$root/lib/systemd/system/kizuna.service
[ -f "$unit" ] || unit=$root/usr/lib/systemd/system/kizuna.service
for f in usr/bin/kizuna etc/kizuna/kizuna.yaml; do
    [ -f "$root/$f" ] || fail "/$f missing"
done
[ -x "$root/usr/bin/kizuna" ] || fail "/usr/bin/kizuna is not executable"
[ -d "$root/var/lib/kizuna" ] || fail "/var/lib/kizuna missing"
[ -f "$unit" ] || fail "the systemd unit is missing"
grep -qx /etc/kizuna/kizuna.yaml "$root/DEBIAN/conffiles" || fail "kizuna.yaml is not a conffile"
adduser_line=$(grep -E '^ *adduser --system' -A1 "$root/DEBIAN/postinst" | tr -d '\\\n' | tr -s ' ')
[ -n "$adduser_line" ] || fail "the postinst does not create the kizuna user"
grep -q 'deb-systemd-helper' "$root/DEBIAN/postinst" || fail "the postinst does not enable the unit"
ok "contents: /usr/bin/kizuna, conffile /etc/kizuna/kizuna.yaml, /var/lib/kizuna, $(basename "$unit")"

# ---- the unit ----------------------------------------------------------------
# verify resolves ExecStart=, ExecReload= and the units the unit names inside
# the root: give it what the base system brings (the host's units, kill).
mkdir -p "$root/bin"
cp /bin/kill "$root/bin/kill"
cp -an /lib/systemd/system/. "$(dirname "$unit")/"
systemd-analyze verify --root="$root" "$unit" 2>"$work/verify.log" ||
    { cat "$work/verify.log" >&2; fail "systemd-analyze verify"; }
[ -s "$work/verify.log" ] && { cat "$work/verify.log" >&2; fail "systemd-analyze verify warned"; }
ok "systemd-analyze verify"
systemd-analyze security --offline=yes --root="$root" "$unit" >"$work/security.log" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for kizuna.service: \([0-9.]*\).*/\1/p' "$work/security.log")
[ -n "$score" ] || { cat "$work/security.log" >&2; fail "no exposure level from systemd-analyze security"; }
echo "deb-test: exposure level (systemd-analyze security): $score"
awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
    { grep '✗' "$work/security.log" >&2 || true; fail "exposure $score > $MAX_EXPOSURE"; }
ok "exposure $score <= $MAX_EXPOSURE"

# ---- the binary, as the service user ----------------------------------------
id kizuna >/dev/null 2>&1 || eval "$adduser_line"
id kizuna >/dev/null 2>&1 || fail "no kizuna user after: $adduser_line"
sed -e 's/listen: 127\.0\.0\.1:[0-9]*/listen: 127.0.0.1:0/' "$root/etc/kizuna/kizuna.yaml" >"$work/kizuna.yaml"
mkdir "$work/data"
chown kizuna:kizuna "$work/data"
chmod 0755 "$work"
chmod 0644 "$work/kizuna.yaml"
# setpriv execs the binary (runuser would stay as its parent and die of the SIGTERM).
setpriv --reuid=kizuna --regid=kizuna --init-groups -- "$root/usr/bin/kizuna" serve -c "$work/kizuna.yaml" --data "$work/data" \
    --ports-file "$work/data/ports.json" 2>"$work/serve.log" &
pid=$!
i=0
while [ ! -s "$work/data/ports.json" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$work/serve.log" >&2; fail "no ports file after 10 s"; }
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; fail "kizuna serve exited"; }
    sleep 0.1
done
port=$(sed -n 's/.*"web": *\([0-9]*\).*/\1/p' "$work/data/ports.json")
[ -n "$port" ] || fail "no web port in $(cat "$work/data/ports.json")"
[ "$(curl -fsS "http://127.0.0.1:$port/healthz")" = ok ] || fail "/healthz"
curl -fsS "http://127.0.0.1:$port/readyz" | grep -q '"ready":true' || fail "/readyz"
[ "$(stat -c %U "$work/data/kizuna.db")" = kizuna ] || fail "the store is not the kizuna user's"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || { cat "$work/serve.log" >&2; fail "kizuna serve exit status $status"; }
pid=
grep -q 'level=error' "$work/serve.log" && { cat "$work/serve.log" >&2; fail "errors in the log"; }
ok "the installed binary as user kizuna: /healthz, /readyz, clean stop"
echo "deb-test: PASS"
