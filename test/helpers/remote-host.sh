#!/bin/sh
# A test "remote GPU host", run inside its own network and mount namespaces (remote-host.ts starts it,
# joined to the network namespace with nsenter, in a private mount namespace made with unshare):
# a private /run, so its Docker engine owns /run/docker.sock as on any host, then Debian's sshd with the
# shipped /etc/ssh/sshd_config, given only a port, a listen address and host keys on its command line.
# Arguments: DIR SSH_PORT ADDRESS HOST_KEY... (DIR holds daemon.json, bin/ for dockerd's PATH, the data).
set -eu
dir=$1
port=$2
addr=$3
shift 3

# This network's devices in /sys (the engine configures its bridge there), with the cgroup tree kept.
mkdir -p "$dir/cgroup"
mount --rbind /sys/fs/cgroup "$dir/cgroup"
mount -t sysfs sysfs /sys
mount --rbind "$dir/cgroup" /sys/fs/cgroup
umount -l "$dir/cgroup"
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/sshd /run/lock
chmod 0755 /run/sshd

# The engine answers on the usual socket (what a login's docker CLI and the docker provider's dial-stdio
# use) and on one in DIR, which the test process outside this mount namespace can reach.
PATH="$dir/bin:$PATH" dockerd --data-root "$dir/docker" --config-file "$dir/daemon.json" \
  -H unix:///run/docker.sock -H "unix://$dir/docker.sock" >"$dir/dockerd.log" 2>&1 &
i=0
until [ -S /run/docker.sock ] && [ -S "$dir/docker.sock" ]; do
  i=$((i + 1))
  if [ "$i" -gt 300 ]; then echo "remote host: dockerd did not answer within 30 s" >&2; tail -20 "$dir/dockerd.log" >&2; exit 1; fi
  sleep 0.1
done

keys=""
for key in "$@"; do keys="$keys -h $key"; done
# shellcheck disable=SC2086 # host key paths are the test's own temp files, without white space
exec /usr/sbin/sshd -D -e -p "$port" -o "ListenAddress=$addr" $keys
