#!/bin/sh
# Prove that `make test` works on a fresh Debian 12 with only make and git:
# bootstrap a minimal bookworm into DIR (debootstrap, as root), clone this
# repository into it and run `make test` there.  Not part of `make test`.
#
#   scripts/fresh-debian.sh /var/tmp/kizuna-fresh
#
# The host's package configuration is reused: debootstrap takes its mirror
# from the host's apt sources (it stops when they name none), the apt sources
# and the host's npm configuration (/etc/npmrc, ~/.npmrc) are copied in, and so
# are extra CA certificates of the host (a proxy's, in
# /usr/local/share/ca-certificates), so apt and npm reach what the host reaches.
set -eu
root=${1:?usage: fresh-debian.sh DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "fresh-debian.sh: run as root" >&2; exit 1; }
command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap

# The Debian mirror of the host's apt sources: the URI serving the bookworm
# suite in /etc/apt/sources.list.d/*.sources (deb822) or /etc/apt/sources.list
# ("deb [options] URI SUITE ..."), else the first that is not a security
# archive.
host_mirror() {
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'function flush() { if (uri != "" && deb) {
                 if (main && best == "") best = uri; if (any == "" && uri !~ /security/) any = uri }
                 uri = ""; main = 0; deb = 0 }
             /^[ \t]*$/ { flush(); next }
             /^[ \t]*#/ { next }
             tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
             tolower($1) == "uris:" { uri = $2 }
             tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == "bookworm") main = 1 }
             END { flush(); print (best != "" ? best : any) }' "$f"
    done
    if [ -f /etc/apt/sources.list ]; then
        awk '/^[ \t]*deb[ \t]/ { sub(/\[[^]]*\]/, ""); uri = $2
                 if ($3 == "bookworm" && best == "") best = uri
                 if (any == "" && uri !~ /security/) any = uri }
             END { print (best != "" ? best : any) }' /etc/apt/sources.list
    fi
}
mirror=$(host_mirror | sed -n '/./{p;q;}')
[ -n "$mirror" ] || { echo "fresh-debian.sh: the host's apt sources name no Debian mirror" >&2; exit 1; }
echo "fresh-debian.sh: Debian mirror $mirror"

if [ ! -x "$root/bin/sh" ]; then
    debootstrap --variant=minbase bookworm "$root" "$mirror"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
    rm -f "$root/etc/apt/sources.list"
elif [ -f /etc/apt/sources.list ]; then
    cp /etc/apt/sources.list "$root/etc/apt/sources.list"
fi
[ -f /etc/npmrc ] && cp /etc/npmrc "$root/etc/npmrc"
[ -f "$HOME/.npmrc" ] && mkdir -p "$root/root" && cp "$HOME/.npmrc" "$root/root/.npmrc"
mkdir -p "$root/usr/local/share/ca-certificates"
cp /usr/local/share/ca-certificates/* "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/dev" || mount --rbind /dev "$root/dev"
trap 'umount -R "$root/dev" 2>/dev/null; umount "$root/proc" 2>/dev/null' EXIT

chroot "$root" sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends make git'
rm -rf "$root/src"
git clone -q "$top" "$root/src"
# ca-certificates arrives with make test's own install step; refresh the
# bundle first so the copied certificates are in it for npm.
chroot "$root" sh -c 'cd /src && scripts/deps.sh && update-ca-certificates >/dev/null &&
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt make test'
