#!/bin/sh
# shellcheck shell=sh
# The TLS proxies' host folders and files, written as root on the Docker host before the proxies start.
#   $1 the tls folder (tlsDir); $2 the mode (internal, acme, files); $3 the ACME server's root
#   certificates (PEM, or empty); then pairs: a site folder name and its Caddyfile.
#   stdin (files mode): the certificate chain (PEM), then the private key (PEM).
# Layout: <tls>/data (0700) is the proxies' own storage (their CA, ACME account and certificates),
# mounted read-write into every proxy of the host and never removed; <tls>/sites/<site> (0755) holds one
# proxy's Caddyfile and files, mounted read-only into that proxy. No container can write the sites
# folders, and nothing here ever reads or writes inside data/ beyond creating it.
set -eu
umask 077
tls=$1 mode=$2 acme_roots=$3
shift 3
fail() { echo "sdwebui tls: $*" >&2; exit 1; }
# dir PATH MODE: a real folder (never a link) owned by root with this mode.
dir() {
  [ -L "$1" ] && fail "$1 is a symbolic link; this step writes only into folders of its own: move it away"
  [ -d "$1" ] || mkdir -p "$1" || fail "cannot create $1"
  chown -h 0:0 "$1" && chmod "$2" "$1"
}
dir "$tls" 0755
dir "$tls/data" 0700
dir "$tls/sites" 0755
# put FILE MODE < content: replace FILE atomically (a reloading proxy never reads half a file).
put() {
  cat > "$1.new" && chmod "$2" "$1.new" && mv -f "$1.new" "$1"
}
if [ "$mode" = files ]; then
  pem=$(mktemp) || fail "cannot create a temporary file"
  trap 'rm -f "$pem"' EXIT
  cat > "$pem"
  grep -q -- '-----BEGIN CERTIFICATE-----' "$pem" || fail "no certificate reached this step on its stdin (tlsCertificate)"
  grep -q -- 'PRIVATE KEY-----' "$pem" || fail "no private key reached this step on its stdin (tlsKey)"
fi
count=0
while [ $# -ge 2 ]; do
  site="$tls/sites/$1"
  dir "$site" 0755
  printf '%s' "$2" | put "$site/Caddyfile" 0644
  if [ "$mode" = files ]; then
    awk '/-----BEGIN CERTIFICATE-----/ { c = 1 } c { print } /-----END CERTIFICATE-----/ { c = 0 }' "$pem" | put "$site/cert.pem" 0644
    awk '/-----BEGIN [A-Z ]*PRIVATE KEY-----/ { k = 1 } k { print } /-----END [A-Z ]*PRIVATE KEY-----/ { k = 0 }' "$pem" | put "$site/key.pem" 0600
  fi
  if [ -n "$acme_roots" ]; then printf '%s\n' "$acme_roots" | put "$site/acme-ca-roots.pem" 0644; fi
  count=$((count + 1))
  shift 2
done
echo "tls: $count proxy site(s) ready in $tls/sites ($mode); the proxies' storage is $tls/data"
