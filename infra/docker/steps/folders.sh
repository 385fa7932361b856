#!/bin/sh
# shellcheck shell=sh
# The host folders that outlive the container, run as root on the Docker host after host-walk.sh: creates
# the missing ones with the image's owner and refuses, before the container starts, folders that the
# image's uid cannot write. It never changes or removes what already exists: saved images are never at risk.
# The folders inside one a container may have written (the checkpoints folder, the scale-out
# outputs/<slot> folders) are entered and created without following a link, and given away with chown -h.
#   $1 the outputs folder; $2 the models folder; $3 the checkpoints folder's name inside it; $4 the uid and
#   $5 the gid the WebUI runs as; $6 the profile's name (for the messages); then the per-container outputs
#   folders (scale-out), if any. The folders are safe absolute paths (checked before they reach here).
set -eu
umask 022
outputs=$1 models=$2 ckpt=$3 uid=$4 gid=$5 profile=$6
shift 6
owner="$uid:$gid"
here="" # the folder enter_dir (host-walk.sh) entered last
fail() { echo "sdwebui folders: $*" >&2; exit 1; }
# allowed_by DIR BITS: does uid:gid have the permission BITS (3: write and search, 5: read and search) on DIR?
allowed_by() {
  [ "$uid" -eq 0 ] && return 0
  # shellcheck disable=SC2046 # split stat's three fields into $1 $2 $3
  set -- $(stat -c '%u %g %a' -- "$1") "$2"
  mode=$((0$3))
  if [ "$1" -eq "$uid" ]; then [ $(((mode >> 6) & $4)) -eq "$4" ] && return 0; fi
  if [ "$2" -eq "$gid" ]; then [ $(((mode >> 3) & $4)) -eq "$4" ] && return 0; fi
  [ $((mode & $4)) -eq "$4" ]
}
refuse_owner() {
  fail "$1 is owned by $(stat -c '%u:%g mode %a' -- "$1"), so the WebUI (profile $profile, uid $uid) cannot $2 there. This program did not create it, so it never changes its owner: choose a new folder (the program creates it for uid $owner), or, if the folder is meant for the WebUI alone, run: sudo chown $owner $1 (this folder only)"
}
# give_dir NAME: enter_dir's ON_MISSING: a new folder in $here, given to the WebUI's uid.
give_dir() {
  mkdir -m 0755 -- "$1" || fail "cannot create $here/$1"
  chown -h "$owner" -- "$1" || fail "cannot give $here/$1 to uid $owner (profile $profile); run: sudo chown $owner $here/$1"
  echo "created $here/$1 (owner $owner)"
}
# top DIR: a folder the settings name; nothing a container writes is above it, so a link in its path is the admin's own.
top() {
  if [ ! -d "$1" ]; then
    mkdir -p -- "$1" || fail "cannot create $1; create it as root: sudo mkdir -p $1 && sudo chown $owner $1"
    chown -h "$owner" -- "$1" || fail "cannot give $1 to uid $owner (profile $profile); run: sudo chown $owner $1"
    echo "created $1 (owner $owner)"
  fi
  phys=$(cd -P -- "$1" && pwd -P) || fail "cannot enter $1"
  allowed_by "$phys" 3 || refuse_owner "$1" "save"
}
# inner PARENT REL BITS: a folder inside a top one, entered (and created) without following a link.
inner() (
  phys=$(cd -P -- "$1" && pwd -P) || fail "cannot enter $1"
  enter_dir "$phys" "$2" give_dir
  allowed_by . "$3" || refuse_owner "$1/$2" "$( [ "$3" = 3 ] && echo save || echo read)"
)
# The top folders first, then the ones inside them: the checkpoints folder (the WebUI only reads it, so its
# uid needs r-x there) and the per-container outputs folders that lie inside the outputs folder.
top "$outputs"
top "$models"
for d in "$@"; do
  case $d in "$outputs"/*) ;; *) top "$d" ;; esac
done
inner "$models" "$ckpt" 5
for d in "$@"; do
  case $d in "$outputs"/*) inner "$outputs" "${d#"$outputs"/}" 3 ;; esac
done
# The folders the WebUI writes into inside the outputs folders (a link there is the container's own business).
for o in "$outputs" "$@"; do
  for d in "$o"/*; do
    { [ ! -L "$d" ] && [ -d "$d" ]; } || continue
    allowed_by "$d" 3 || refuse_owner "$d" "save"
  done
done
all=$outputs
for d in "$@"; do all="$all $d"; done
echo "host folders ready for uid $owner: $all $models $models/$ckpt"
