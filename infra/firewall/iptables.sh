#!/bin/sh
# shellcheck shell=sh
# sdwebui firewall (iptables), run as root on the Docker host. The rules carry the tag as their comment, and
# only rules whose comment is exactly the tag are ever removed ("lab" never matches "lab2").
#   $1 the action: create (replace the tagged rules in one iptables-restore transaction per family), delete
#   (remove exactly the tagged rules; nothing to remove is success) or status (list them with their counters);
#   $2 the tag. create also takes: $3 the port (for the closing line); $4 how long to wait, in seconds, for
#   dockerd to create DOCKER-USER; $5 the IPv4 and $6 the IPv6 insert lines (iptables-restore's -I lines,
#   one a line, last rule first; none when the port is not published on that family).
# Exit codes: 3 no DOCKER-USER within the wait, 4 a chain could not be listed, 5 a transaction was refused.
set -eu
action=$1 tag=$2
msg() { printf 'sdwebui-firewall[%s]: %s\n' "$tag" "$*" >&2; }
# tagged BINARY TABLE CHAIN [extra -S flags]: the rules of CHAIN whose comment is exactly the tag
# (iptables prints it quoted or bare depending on the version).
tagged() {
  bin=$1 table=$2 chain=$3
  shift 3
  listing=$("$bin" -t "$table" "$@" -S "$chain") || { msg "cannot list $bin -t $table -S $chain"; exit 4; }
  printf '%s\n' "$listing" | awk -v tag="$tag" '{
    for (i = 1; i < NF; i++) if ($i == "--comment" && ($(i + 1) == tag || $(i + 1) == "\"" tag "\"")) { print; next }
  }'
}
deletes() { lines=$(tagged "$@") || exit 4; if [ -n "$lines" ]; then printf '%s\n' "$lines" | sed 's/^-A /-D /'; fi; }
has_docker_user() { iptables -t filter -n -L DOCKER-USER >/dev/null 2>&1; }
has_ipv6() { [ -e /proc/net/if_inet6 ]; }
count() { if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l | tr -d ' '; fi; }
# transaction TABLE RESTORE DELETES INSERTS: one RESTORE --noflush run that deletes and inserts, or changes nothing.
transaction() {
  body=$(printf '*%s\n' "$1"; [ -z "$3" ] || printf '%s\n' "$3"; [ -z "$4" ] || printf '%s\n' "$4"; echo COMMIT)
  printf '%s\n' "$body" | "$2" --noflush ||
    { msg "$2 rejected the transaction; the $1 table was left unchanged"; exit 5; }
}

case $action in
create)
  port=$3 wait=$4 inserts4=$5 inserts6=$6
  waited=0
  while ! has_docker_user; do
    if [ "$waited" -ge "$wait" ]; then
      msg "chain DOCKER-USER not found in iptables' filter table after $waited s: dockerd is not running (or runs with --iptables=false). Start Docker and apply again, or use the nftables backend."
      exit 3
    fi
    if [ $((waited % 5)) -eq 0 ]; then msg "waiting for dockerd to create DOCKER-USER ($waited s of $wait s)"; fi
    sleep 1
    waited=$((waited + 1))
  done
  del4=$(deletes iptables filter DOCKER-USER)
  transaction filter iptables-restore "$del4" "$inserts4"
  if has_ipv6; then
    del6=$(deletes ip6tables mangle PREROUTING)
    transaction mangle ip6tables-restore "$del6" "$inserts6"
    n6=$(count "$(tagged ip6tables mangle PREROUTING)")
  else
    n6="0 (IPv6 disabled in this kernel)"
  fi
  n4=$(count "$(tagged iptables filter DOCKER-USER)")
  echo "sdwebui-firewall[$tag]: port $port: $n4 IPv4 rules at the top of DOCKER-USER, $n6 IPv6 rules in mangle" \
    "PREROUTING"
  ;;
delete)
  if has_docker_user; then
    del4=$(deletes iptables filter DOCKER-USER)
    if [ -n "$del4" ]; then
      printf '*filter\n%s\nCOMMIT\n' "$del4" | iptables-restore --noflush ||
        { msg "iptables-restore rejected the deletion"; exit 5; }
    fi
  else
    del4=""
    msg "no DOCKER-USER chain (dockerd not running): no IPv4 rules to remove"
  fi
  del6=""
  if has_ipv6; then
    del6=$(deletes ip6tables mangle PREROUTING)
    if [ -n "$del6" ]; then
      printf '*mangle\n%s\nCOMMIT\n' "$del6" | ip6tables-restore --noflush ||
        { msg "ip6tables-restore rejected the deletion"; exit 5; }
    fi
  fi
  echo "sdwebui-firewall[$tag]: removed $(count "$del4") IPv4 and $(count "$del6") IPv6 rules"
  ;;
status)
  if has_docker_user; then
    r4=$(tagged iptables filter DOCKER-USER -v)
    echo "IPv4 filter DOCKER-USER: $(count "$r4") rules tagged $tag"
    if [ -n "$r4" ]; then printf '%s\n' "$r4"; fi
  else
    echo "IPv4: no DOCKER-USER chain (dockerd not running)"
  fi
  if has_ipv6; then
    r6=$(tagged ip6tables mangle PREROUTING -v)
    echo "IPv6 mangle PREROUTING: $(count "$r6") rules tagged $tag"
    if [ -n "$r6" ]; then printf '%s\n' "$r6"; fi
  fi
  ;;
*) msg "unknown action $action (create, delete or status)"; exit 2 ;;
esac
