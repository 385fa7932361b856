#!/bin/sh
# shellcheck shell=sh
# The preflight's port check on the Docker host, before the container is created: fails (exit 1) when the
# host port is taken by anything but this stack's own container, which Docker would otherwise find only at
# start ("bind: address already in use"), leaving a Created container behind. Without ss it only warns.
#   $1 the host port; $2 the container's name (it may hold the port: a re-run); $3 the project and $4 the
#   stack whose containers carry the sdwebui.project and sdwebui.stack labels (one under another name is
#   about to be replaced); $5 the setting that holds the port, for the message.
set -u
port=$1 name=$2 project=$3 stack=$4 setting=$5
if ! command -v ss >/dev/null 2>&1; then
  echo "sdwebui preflight: ss (iproute2) is not installed, so port $port could not be checked" >&2
  exit 0
fi
listeners=$(ss -Hltnp "sport = :$port" 2>/dev/null || ss -Hltn "sport = :$port")
[ -z "$listeners" ] && { echo "port $port is free"; exit 0; }
owner=""
ours=""
if command -v docker >/dev/null 2>&1; then
  owner=$(docker ps --filter "publish=$port" --format '{{.Names}}' 2>/dev/null | head -n 1)
  ours=$(docker ps --filter "publish=$port" --filter "label=sdwebui.project=$project" \
    --filter "label=sdwebui.stack=$stack" --format '{{.Names}}' 2>/dev/null | head -n 1)
fi
if [ "$owner" = "$name" ] || [ -n "$ours" ]; then
  echo "port $port is held by this stack's container $owner (it is replaced, not duplicated)"
  exit 0
fi
echo "sdwebui preflight: port $port on this host is already in use by ${owner:+container $owner, }$(echo "$listeners" | head -n 1 | tr -s ' ')" >&2
# The port next to it (below it for the last port) as the suggestion.
next=$((port < 65535 ? port + 1 : port - 1))
echo "fix: choose another port (pulumi config set $setting $next) or stop what listens on $port" >&2
exit 1
