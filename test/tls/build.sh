#!/usr/bin/env bash
# The TLS proxy's test parts, built here from Go modules and cached outside the clone:
#
#   build.sh caddy    (npm run caddy:image) Caddy from github.com/caddyserver/caddy/v2/cmd/caddy, imported
#                     FROM scratch as sdwebui-caddy:<version> with the official caddy:<version> image's
#                     layout: /usr/bin/caddy, /etc/caddy/Caddyfile, /data and /config (XDG_DATA_HOME,
#                     XDG_CONFIG_HOME), WORKDIR /srv, user root, Debian's CA bundle for public ACME, and
#                     the same CMD, so a container spec written for the official image runs this one.
#   build.sh pebble   (npm run pebble:build) pebble and pebble-challtestsrv from
#                     github.com/letsencrypt/pebble/v2, for the ACME tests (test/helpers/pebble.ts).
#
# Binaries go to $SDWEBUI_TOOLCHAIN_DIR (default ~/.cache/sdwebui-toolchain)/<name>-<version>/, keyed by
# version, Go version and build flags; a second run takes well under a second. Progress and results
# go to stderr; stdout gets one line, for the tests: the image reference, or the pebble binaries' folder.
# CADDY_IMAGE_FORCE=1 re-imports the image even when one built from the same inputs exists.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The one home of these versions. The official image the program deploys by default carries the same
# Caddy version (caddy:<CADDY_VERSION without v>).
CADDY_VERSION=v2.11.9
PEBBLE_VERSION=v2.10.3
CADDY_MODULE=github.com/caddyserver/caddy/v2
PEBBLE_MODULE=github.com/letsencrypt/pebble/v2
# As Caddy's own release build (its .goreleaser.yml): no cgo, trimmed paths, stripped, the same tags.
CADDY_TAGS=nobadger,nomysql,nopgx
BUILD_LIMIT_S=1800
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

cache="${SDWEBUI_TOOLCHAIN_DIR:-$HOME/.cache/sdwebui-toolchain}"
started=$(date +%s)
say() { echo "tls-build [$(($(date +%s) - started))s] $*" >&2; }

# go_install WHAT DIR LDFLAGS TAGS PACKAGE@VERSION...: builds into DIR unless DIR/.build-id matches;
# progress every 30 s (what, elapsed, limit); on failure the log's tail.
go_install() {
  local what="$1" dir="$2" ldflags="$3" tags="$4"
  shift 4
  command -v go >/dev/null || { say "the go command is missing: install Go (see README, Development)"; exit 1; }
  local id
  id="$(printf '%s\n' "$@" "$ldflags" "$tags" "$(go env GOVERSION)" | sha256sum | cut -c1-16)"
  if [ -f "$dir/.build-id" ] && [ "$(cat "$dir/.build-id")" = "$id" ]; then
    say "$what: up to date in $dir"
    return
  fi
  mkdir -p "$dir"
  rm -f "$dir/.build-id"
  local log="$dir/build.log" t0 pid
  t0=$(date +%s)
  say "$what: go install $* (a few minutes cold on 2 cores; log $log)"
  GOBIN="$dir" GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS='' \
    go install -trimpath -tags "$tags" -ldflags "$ldflags" "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    local e=$(($(date +%s) - t0))
    if [ "$e" -gt "$BUILD_LIMIT_S" ]; then kill "$pid"; say "$what: over its limit of ${BUILD_LIMIT_S}s; last lines of $log:"; tail -20 "$log" >&2; exit 1; fi
    if [ $((e % 30)) -lt 2 ] && [ "$e" -ge 30 ] && kill -0 "$pid" 2>/dev/null; then say "$what: compiling, ${e}s elapsed (limit ${BUILD_LIMIT_S}s)"; fi
  done
  if ! wait "$pid"; then say "$what: build failed; last lines of $log:"; tail -30 "$log" >&2; exit 1; fi
  echo "$id" >"$dir/.build-id"
  say "$what: built in $(($(date +%s) - t0))s"
}

build_caddy_binary() {
  # Built as the main module, Caddy finds no version of itself among the dependencies: say it (caddy version, User-Agent).
  go_install "caddy $CADDY_VERSION" "$cache/caddy-$CADDY_VERSION" "-s -w -X $CADDY_MODULE.CustomVersion=$CADDY_VERSION" "$CADDY_TAGS" "$CADDY_MODULE/cmd/caddy@$CADDY_VERSION"
}

caddy_image() {
  local image="sdwebui-caddy:${CADDY_VERSION#v}"
  build_caddy_binary
  local bin="$cache/caddy-$CADDY_VERSION/caddy"
  [ -f "$CA_BUNDLE" ] || { say "$CA_BUNDLE is missing: apt-get install ca-certificates"; exit 1; }
  local build_id
  build_id="$( (sha256sum "$bin" "$CA_BUNDLE"; cat "$0") | sha256sum | cut -c1-16)"
  if [ "${CADDY_IMAGE_FORCE:-}" != 1 ] && docker image inspect "$image" --format '{{range .Config.Env}}{{println .}}{{end}}' 2>/dev/null | grep -qx "CADDY_IMAGE_BUILD=$build_id"; then
    say "$image is up to date (build $build_id)"
    echo "$image"
    return
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  local rootfs="$work/rootfs"
  mkdir -p "$rootfs"/{usr/bin,etc/caddy,etc/ssl/certs,config/caddy,data/caddy,srv,tmp}
  install -m 0755 "$bin" "$rootfs/usr/bin/caddy"
  install -m 0644 "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  # The official image's storage folders are world-writable (sticky), so a non-root user can run it too.
  chmod 1777 "$rootfs/config/caddy" "$rootfs/data/caddy" "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  # A placeholder like the official image's (which serves a welcome page on :80); deploys mount their own.
  printf '# sdwebui-caddy: mount your own Caddyfile here (or give caddy run another --config).\n:80 {\n\trespond "sdwebui-caddy %s: no Caddyfile mounted" 404\n}\n' "$CADDY_VERSION" >"$rootfs/etc/caddy/Caddyfile"
  tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf "$work/rootfs.tar" .
  docker import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV CADDY_VERSION=$CADDY_VERSION" \
    --change "ENV XDG_CONFIG_HOME=/config" \
    --change "ENV XDG_DATA_HOME=/data" \
    --change "ENV CADDY_IMAGE_BUILD=$build_id" \
    --change "LABEL org.opencontainers.image.version=$CADDY_VERSION" \
    --change "EXPOSE 80" --change "EXPOSE 443" --change "EXPOSE 443/udp" --change "EXPOSE 2019" \
    --change "WORKDIR /srv" \
    --change 'CMD ["caddy","run","--config","/etc/caddy/Caddyfile","--adapter","caddyfile"]' \
    - "$image" <"$work/rootfs.tar" >/dev/null
  say "built $image (build $build_id, $(($(docker image inspect "$image" --format '{{.Size}}') / 1000000)) MB) in $(($(date +%s) - started))s"
  echo "$image"
}

pebble_binaries() {
  local dir="$cache/pebble-$PEBBLE_VERSION"
  go_install "pebble $PEBBLE_VERSION" "$dir" "-s -w -X main.version=$PEBBLE_VERSION" "" \
    "$PEBBLE_MODULE/cmd/pebble@$PEBBLE_VERSION" "$PEBBLE_MODULE/cmd/pebble-challtestsrv@$PEBBLE_VERSION"
  echo "$dir"
}

case "${1:-}" in
  caddy) caddy_image ;;
  pebble) pebble_binaries ;;
  *) echo "usage: $0 caddy|pebble" >&2; exit 2 ;;
esac
