#!/bin/sh
# shellcheck shell=sh
# Print the root certificate of the proxies' own CA (tls: internal) once the first proxy has made it.
#   $1 the tls folder (tlsDir); $2 the limit in seconds.
# The CA lives in the proxies' storage, which a proxy (root in its container) can write: every folder on
# the way is entered without following a link and checked, and the file itself is opened without
# following one, so a planted link can never make this step print another file.
set -eu
tls=$1 limit=$2
fail() { echo "sdwebui tls: $*" >&2; exit 2; }
# enter NAME: step into the folder NAME of the current one, refusing a link or anything swapped meanwhile.
enter() {
  [ -L "$1" ] && fail "$(pwd -P)/$1 is a symbolic link, not the proxies' folder: move it away"
  [ -d "$1" ] || return 1
  expected="$(pwd -P)/$1"
  cd -P -- "$1" || return 1
  [ "$(pwd -P)" = "$expected" ] || fail "$expected changed while it was read; run pulumi up again"
}
t0=$(date +%s)
last=$t0
# found: 0 when the file is there, 1 while it is not yet; a link anywhere on the way ends the step at once.
found() {
  cd -P -- "$tls/data" && enter caddy && enter pki && enter authorities && enter local || return 1
  [ -L root.crt ] && fail "$(pwd -P)/root.crt is a symbolic link, not the proxies' root certificate: move it away"
  [ -f root.crt ]
}
while :; do
  rc=0; (found) || rc=$?
  [ "$rc" -eq 0 ] && break
  [ "$rc" -eq 1 ] || exit "$rc"
  now=$(date +%s)
  [ $((now - t0)) -lt "$limit" ] || fail "the proxy made no root certificate in $tls/data/caddy/pki/authorities/local within ${limit}s; see its log (docker logs <container>-tls)"
  if [ $((now - last)) -ge 10 ]; then echo "tls: waiting for the proxy's CA in $tls/data: $((now - t0))s elapsed (limit ${limit}s)" >&2; last=$now; fi
  sleep 1
done
cd -P -- "$tls/data"
enter caddy && enter pki && enter authorities && enter local
pem=$(dd if=root.crt iflag=nofollow bs=65536 count=1 2>/dev/null) || fail "cannot read the root certificate without following a link"
case $pem in
  "-----BEGIN CERTIFICATE-----"*"-----END CERTIFICATE-----") printf '%s\n' "$pem" ;;
  *) fail "$tls/data/caddy/pki/authorities/local/root.crt is not one PEM certificate" ;;
esac
