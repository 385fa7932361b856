#!/bin/sh
# shellcheck shell=sh
# sdwebui firewall (nftables), run as root on the Docker host: one table of its own, replaced or removed in a
# single nft -f batch. It never touches the ip/ip6 tables that iptables-nft (and so Docker) manage.
#   $1 the action: create (replace the table atomically), delete (remove it; nothing to remove is success)
#   or status (show it with its counters); $2 the tag; $3 the table's name (sdwebui_<tag>, in the inet
#   family); create also takes $4, the table's definition (nft syntax).
# Exit codes: 3 no nft on this host, 5 nft refused the batch.
set -eu
action=$1 tag=$2 name=$3
table="inet $name"
msg() { printf 'sdwebui-firewall[%s]: %s\n' "$tag" "$*" >&2; }
command -v nft >/dev/null 2>&1 ||
  { msg "nft not found: install the nftables package, or use the iptables backend"; exit 3; }
# "table X" creates it when missing, so the delete that follows never fails: one idempotent batch.
case $action in
create)
  printf 'table %s\ndelete table %s\n%s\n' "$table" "$table" "$4" | nft -f - ||
    { msg "nft rejected the ruleset; table $table was left unchanged"; exit 5; }
  echo "sdwebui-firewall[$tag]: table $table applied"
  ;;
delete)
  printf 'table %s\ndelete table %s\n' "$table" "$table" | nft -f - ||
    { msg "nft could not remove table $table"; exit 5; }
  echo "sdwebui-firewall[$tag]: table $table removed"
  ;;
status)
  if nft list table inet "$name" 2>/dev/null; then :; else echo "no table $table: no rules carry tag $tag"; fi
  ;;
*) msg "unknown action $action (create, delete or status)"; exit 2 ;;
esac
