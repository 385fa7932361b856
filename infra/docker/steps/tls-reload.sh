#!/bin/sh
# shellcheck shell=sh
# Make a running proxy read its Caddyfile and certificate files again, without restarting it (nor the
# WebUI behind it): Caddy's own reload, through its admin endpoint inside the container.
#   $1 the Docker host URI for the docker CLI (empty: the CLI's default); $2 the proxy container.
set -eu
host=$1 container=$2
command -v docker >/dev/null 2>&1 || { echo "sdwebui tls: the docker CLI is not on this host's PATH; install it to reload the proxy $container" >&2; exit 1; }
if [ -n "$host" ]; then set -- -H "$host"; else set --; fi
docker "$@" exec "$container" caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile --force
echo "tls: $container reloaded its configuration and certificates"
