#!/bin/sh
# Install the Debian packages kizuna needs to build, test and run
# (python3-icalendar: the tests open a plan's .ics with a real parser;
# libsystemd-dev: sd_notify; debhelper, dpkg-dev, fakeroot, adduser: make deb;
# chromium: the browser COP's tests drive it headless with playwright-core;
# libnats-dev, libpq-dev: the cluster's NATS fan-out and PostgreSQL store;
# nats-server, postgresql-15, postgresql-15-postgis-3: the tests start real servers;
# haproxy: the PROXY protocol test puts a real HAProxy in mode tcp in front of kizuna;
# sqlite3: the store copy test counts a node's SQLite rows with the sqlite3 shell).
# As root: installs what is missing.  Otherwise: prints the command and fails.
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
      libuv1-dev libexpat1-dev libjansson-dev libyaml-dev libsqlite3-dev
      libsodium-dev libcmocka-dev node-llhttp ca-certificates tzdata
      libssl-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libzip-dev openssl unzip curl
      python3-icalendar libsystemd-dev debhelper dpkg-dev fakeroot adduser chromium
      libnats-dev nats-server libpq-dev postgresql-15 postgresql-15-postgis-3 haproxy
      sqlite3"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# Node.js and npm build the browser COP (web/) and run the integration,
# interop and browser tests.  Any
# installed node (e.g. a newer upstream build) is fine; otherwise Debian's.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
    echo "kizuna needs these Debian packages:$missing" >&2
    echo "run as root:  apt-get update && $cmd" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
