#!/bin/sh
# shellcheck shell=sh
# The preflight's image pull on the Docker host (run in a subshell of its own): an image already on the host
# is never pulled again; a missing one is pulled with a line of progress every few seconds, and given up
# (exit 1, with the fix) when it outlasts its limit. Without the docker CLI the pull is left to the provider.
#   $1 the image reference; $2 the limit in seconds; $3 the setting that holds the limit, for the message;
#   $4 the seconds between two progress lines.
set -u
image=$1 limit=$2 setting=$3 every=$4
if ! command -v docker >/dev/null 2>&1; then
  echo "sdwebui preflight: the docker CLI is not on this host's PATH, so $image is left to the Docker provider to pull (no progress shown)"
  exit 0
fi
if docker image inspect "$image" >/dev/null 2>&1; then echo "image $image is on this host"; exit 0; fi
echo "sdwebui preflight: pulling $image (limit ${limit}s)"
start=$(date +%s)
docker pull "$image" &
pid=$!
next=$((start + every))
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  now=$(date +%s)
  if [ $((now - start)) -ge "$limit" ]; then
    kill "$pid" 2>/dev/null
    echo "sdwebui preflight: pulling $image did not finish within ${limit}s; layers pulled so far stay on the host, so a new pulumi up resumes" >&2
    echo "fix: raise the limit (pulumi config set $setting <seconds>), or pull it on the host first: docker pull $image" >&2
    exit 1
  fi
  if [ "$now" -ge "$next" ]; then echo "sdwebui preflight: pulling $image: $((now - start))s elapsed (limit ${limit}s)"; next=$((now + every)); fi
done
if ! wait "$pid"; then
  echo "sdwebui preflight: docker pull $image failed (its message is above)" >&2
  echo "fix: check the image setting, the registry's address and your login on the host (docker login <registry>)" >&2
  exit 1
fi
echo "pulled $image in $(($(date +%s) - start))s"
