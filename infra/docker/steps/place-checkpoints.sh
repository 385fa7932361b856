#!/bin/sh
# shellcheck shell=sh
# The checkpoint placement step, run as root on the Docker host after host-walk.sh, before the container
# starts: leaves exactly the declared files in <modelsDir>/<checkpoints folder>. A file already there with the
# right sha256 is kept (no download); anything else is fetched into a root-only staging folder next to the
# target (resuming an earlier partial download), under a lock per file, bounded in size, checked against its
# sha256 and only then linked into place (root-owned, mode 0644). It never changes or removes a file it did
# not write, and it has no delete step: models outlive the stack.
# The rules it keeps: nothing is followed through a link and nothing is written under a name a container
# could predict in a folder a container could write. Downloads and their temporary files live only in a
# root-owned 0700 staging folder inside the target folder, entered without following links; the only write
# outside it is the final hard link of the verified file under its name, which never replaces anything.
# What is already in place is checked as the container would see it: links are followed only when relative
# and inside the models folder, and the file is read without following a link at its own name.
#   $1 the models folder; $2 the checkpoints folder's name inside it; $3 the staging folder's name;
#   $4 seconds below 1 KiB/s after which a download attempt is given up (then resumed); $5 seconds between
#   progress lines; $6 the attempts; $7 how long to wait for another placement's lock, in seconds;
#   $8 the bound in bytes on a download of unknown size; $9 1 when an entry sends the token: its header
#   line is then read from stdin; $10 the folders the containers write, one a line (a host-path source
#   there is refused); $11 the token's setting and $12 why such a source is refused, for the messages;
#   then six words an entry: NAME SHA KIND (url or path) SOURCE USE_TOKEN (1 or 0) SIZE (bytes, or empty).
# The paths, names, hashes and numbers were checked before they reach here.
set -eu
umask 022
models_dir=$1 ckpt=$2 staging=$3 stall=$4 every=$5 attempts=$6 lock_limit=$7 size_cap=$8 read_token=$9
written=${10} token_setting=${11} in_written=${12}
shift 12
fail() { printf 'sdwebui checkpoints: %s\n' "$*" >&2; exit 1; }
say() { printf 'sdwebui checkpoints: %s\n' "$*"; }
command -v sha256sum >/dev/null 2>&1 || fail "sha256sum is missing on this host; install coreutils"
command -v stat >/dev/null 2>&1 || fail "stat is missing on this host; install coreutils"
command -v dd >/dev/null 2>&1 || fail "dd is missing on this host; install coreutils"
command -v df >/dev/null 2>&1 || fail "df is missing on this host; install coreutils"
command -v readlink >/dev/null 2>&1 || fail "readlink is missing on this host; install coreutils"
command -v ln >/dev/null 2>&1 || fail "ln is missing on this host; install coreutils"
command -v flock >/dev/null 2>&1 || fail "flock is missing on this host; install util-linux"
[ -d "$models_dir" ] || fail "$models_dir does not exist (the host folders step creates it); run pulumi up again"
models=$(cd -P -- "$models_dir" && pwd -P) || fail "cannot enter $models_dir"
written_phys=""
here="" # the folder enter_dir (host-walk.sh) entered last
add_written() { [ ! -d "$1" ] || written_phys="$written_phys $(cd -P -- "$1" && pwd -P)"; }
while IFS= read -r d; do
  [ -z "$d" ] || add_written "$d"
done <<EOF
$written
EOF
token_header=""
if [ "$read_token" = 1 ]; then
  IFS= read -r token_header || true
  [ -n "$token_header" ] || fail "no token reached the placement step on its stdin (checkpointToken)"
fi

changing="something else is changing this folder while this step works in it; nothing was written: run pulumi up again"
human() { awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB PiB", u, " "); i = 1; while (b >= 1024 && i < 6) { b /= 1024; i++ } if (i == 1) printf "%d %s", b, u[i]; else printf "%.1f %s", b, u[i] }'; }
size_of() { stat -c %s -- "$1" 2>/dev/null || echo 0; }
free_bytes() { kb=$(df -P -k . | awk 'NR == 2 { print $4 }'); echo $((kb * 1024)); }
# total_of HEADERS START: the whole file's size from the last response's Content-Range, else START +
# Content-Length; "" when that response gave neither.
total_of() {
  # shellcheck disable=SC2046 # two words: the range total and the length, "-" when absent
  set -- $(tr -d '\r' < "$1" 2>/dev/null | awk 'toupper(substr($1, 1, 5)) == "HTTP/" { t = ""; l = "" } tolower($1) == "content-range:" { n = split($3, a, "/"); t = a[n] } tolower($1) == "content-length:" { l = $2 } END { print (t == "" ? "-" : t), (l == "" ? "-" : l) }') "$2"
  case $1 in ""|*[!0-9]*) ;; *) echo "$1"; return 0 ;; esac
  case $2 in ""|*[!0-9]*) echo "" ;; *) echo $(($3 + $2)) ;; esac
}
http_of() { tr -d '\r' < "$1" 2>/dev/null | awk 'toupper(substr($1, 1, 5)) == "HTTP/" { c = $2 } END { print c }'; }
# hash_of_part FILE: the sha256 of a file in the staging folder (only root writes there).
hash_of_part() { sha256sum -- "$1" | cut -c 1-64; }
# stop_fetch PID WHY: end a transfer that must not go on; the caller removes the part and reports WHY.
stop_fetch() { over=$2; kill "$1" 2>/dev/null || true; }
# watch PID FILE LABEL START HEADERS: while PID runs, keep FILE within $bound (the declared size, else the
# size the server announces, else the cap), check free space once the size is known, and print progress.
watch() {
  t0=$(date +%s); last=$t0; total=""; over=""
  while kill -0 "$1" 2>/dev/null; do
    sleep 0.2
    got=$(size_of "$2")
    if [ -z "$total" ] && [ -n "$5" ] && [ "$got" -gt "$4" ]; then
      total=$(total_of "$5" "$4")
      if [ -n "$total" ]; then
        if [ -n "$size" ] && [ "$total" -ne "$size" ]; then stop_fetch "$1" "the server announces $total bytes, but sizeBytes declares $size: check the source and sizeBytes"; return 0; fi
        bound=$total
        free=$(free_bytes)
        [ "$free" -ge $((total - got)) ] || { stop_fetch "$1" "it needs $(human $((total - got))) more, but only $(human "$free") are free on the filesystem of $here; free some space (or choose another modelsDir)"; return 0; }
      fi
    fi
    if [ "$got" -gt "$bound" ]; then stop_fetch "$1" "it passed $(human "$bound") ($bound bytes), $bound_why"; return 0; fi
    now=$(date +%s)
    [ $((now - last)) -ge "$every" ] || continue
    last=$now; el=$((now - t0)); rate=$(( (got - $4) / (el > 0 ? el : 1) ))
    say "$3: $(human "$got")${total:+ of $(human "$total")}, $(human "$rate")/s, ${el}s elapsed (an attempt stalled below 1 KiB/s for ${stall}s is retried)"
  done
}
# take_lock LABEL FILE: hold the lock FILE (in the staging folder) on fd 9 for the rest of this entry.
take_lock() {
  { command exec 9>"$2"; } 2>/dev/null || fail "$1: cannot open the lock $here/$2: $changing"
  t0=$(date +%s)
  until flock -w "$every" 9; do
    el=$(( $(date +%s) - t0 ))
    [ "$el" -lt "$lock_limit" ] || fail "$1: another placement of this file on this host (another stack sharing $models_dir?) still holds its lock after ${el}s (limit ${lock_limit}s); nothing was changed: run pulumi up again once it has finished"
    say "$1: waiting for another placement of this file on this host to finish (${el}s elapsed, limit ${lock_limit}s)"
  done
}

# resolve REL: REL (under the models folder) as the container resolves it, without following anything: a
# link's text is spliced in when it is relative; an absolute link, a .. above the models folder and more
# than 40 links are refused (why says which). Sets resolved; returns 1 when a component does not exist, 3
# when a link vanished while it was read.
resolve() {
  stack=""; rest=$1; hops=0; why=""
  while [ -n "$rest" ]; do
    comp=${rest%%/*}
    case $rest in */*) rest=${rest#*/} ;; *) rest="" ;; esac
    case $comp in
      ""|.) ;;
      ..) [ -n "$stack" ] || { why="leads out of the models folder (through the link $p), and the container sees nothing outside it"; return 2; }
          case $stack in */*) stack=${stack%/*} ;; *) stack="" ;; esac ;;
      *) p="$models/${stack:+$stack/}$comp"
         if [ -L "$p" ]; then
           hops=$((hops + 1))
           [ "$hops" -le 40 ] || { why="passes more than 40 links (a loop?)"; return 2; }
           t=$(readlink -- "$p") || return 3
           [ "$p" = "$models/$1" ] && via="is a link" || via="leads through $p, a link"
           case $t in /*) why="$via to the absolute path $t, which does not exist inside the container (it sees the models folder at another path)"; return 2 ;; esac
           rest="$t${rest:+/$rest}"
         elif [ -e "$p" ]; then stack="${stack:+$stack/}$comp"
         else return 1
         fi ;;
    esac
  done
  resolved=$stack
}
# hash_at REL: the sha256 of the regular file REL under the models folder, entered without links and opened
# without following one (a FIFO or device planted there is refused, not waited on).
hash_at() (
  case $1 in */*) enter_dir "$models" "${1%/*}" refuse ;; *) enter_dir "$models" "" refuse ;; esac
  b=${1##*/}
  { [ ! -L "$b" ] && [ -f "$b" ]; } || fail "$here/$b exists but is not a file (or a link to one); this step never touches it: move it away"
  out=$( { dd if="./$b" iflag=nofollow,nonblock bs=4M status=none 2>&3 | sha256sum; } 3>&1 )
  case $out in *"
"*) fail "cannot read $here/$b: ${out%"
"*}" ;; esac
  printf '%s\n' "${out%% *}"
)
# in_place NAME SHA: 0 when Stable-diffusion/NAME holds the declared file, 1 when nothing is there; anything
# else (another file, a link the container could not follow) fails with the fix.
in_place() {
  rc=0; resolve "$ckpt/$1" || rc=$?
  if [ "$rc" -eq 1 ]; then
    [ "$hops" -eq 0 ] || fail "$models/$ckpt/$1 is a link to $t, which does not exist; this step never replaces a link: move it away (or make it point at the declared file) and run pulumi up again"
    return 1
  fi
  [ "$rc" -ne 3 ] || fail "$models/$ckpt/$1 changed while this step checked it: $changing"
  [ "$rc" -eq 0 ] || fail "$models/$ckpt/$1 $why. This step does not follow it as root, and the WebUI would not find the file: move the link away and copy the file into $models/$ckpt instead, make it a relative link to a file inside the models folder (ln -sr), or declare the file's host path as this entry's source"
  via=""; [ "$resolved" = "$ckpt/$1" ] || via=" (a link to $models/$resolved)"
  got=$(hash_at "$resolved") || exit 1
  [ "$got" = "$2" ] && return 0
  fail "$models/$ckpt/$1$via exists with sha256 $got, not the declared $2; this step never overwrites a file: move it away (or correct the sha256 in the checkpoints setting)"
}

make_root_dir() { e=$(mkdir -m 0755 -- "$1" 2>&1) || fail "cannot create $here/$1 (${e##*: }): $changing"; }
# enter_staging: cd into this folder's staging folder, creating it root-owned 0700; refuse anything else there.
enter_staging() {
  s=$staging
  if [ -L "$s" ]; then refuse_link "$here/$s"; fi
  if [ ! -e "$s" ]; then e=$(mkdir -m 0700 -- "$s" 2>&1) || fail "cannot create $here/$s (${e##*: }): $changing"; fi
  st=$(stat -c '%u %a %F' -- "$s" 2>/dev/null) || fail "$here/$s vanished: $changing"
  # shellcheck disable=SC2086 # owner, mode and type as three words
  set -- $st
  [ "$1 $2 $3" = "0 700 directory" ] || fail "$here/$s is not this step's staging folder (a folder owned by root, mode 0700; it is owner $1, mode $2, a $3): something else made it. Check what it holds, move it away and run pulumi up again"
  target=$here
  enter_dir . "$s" refuse
}
# still_home: the staging folder is still where it was entered (so .. is the target folder).
still_home() { [ "$(pwd -P)" = "$target/$staging" ] || fail "$name: the staging folder $target/$staging was moved while this step ran; nothing was placed: run pulumi up again"; }
kept() {
  k=$(size_of "$part")
  if [ "$k" -gt 0 ]; then echo "the $(human "$k") fetched so far stay in $here and the next pulumi up resumes from there"; else echo "nothing was fetched"; fi
}
# fetch URL: one curl attempt into $part from its current size; returns curl's exit status. curl reads its
# config from stdin: the token's header line for entries with useToken, nothing otherwise.
fetch() {
  limit=""; [ -z "$size" ] || limit="--max-filesize $(( size - start > 0 ? size - start : 1 ))"
  # shellcheck disable=SC2086 # limit is empty or two words
  { [ "$use_token" = 0 ] || printf 'header = "%s"\n' "$token_header"; } |
    curl --config - -fsS -L --proto '=http,https' --connect-timeout 30 --speed-limit 1024 --speed-time "$stall" $limit -C - -D "$hdr" -o "$part" "$1" 2>"$err" &
  pid=$!
  watch "$pid" "$part" "$name (attempt $n of $attempts)" "$start" "$hdr"
  # (wait's stderr: the shell's own "Terminated" when watch stopped the transfer; the reason comes from $over)
  rc=0; wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}
from_url() {
  command -v curl >/dev/null 2>&1 || fail "curl is missing on this host; install it (apt-get install curl) to fetch $src"
  n=1
  while :; do
    start=$(size_of "$part")
    bound=${size:-$size_cap}; bound_why=${size:+"the size sizeBytes declares"}; bound_why=${bound_why:-"the cap for a download whose size neither sizeBytes nor the server gives; set sizeBytes on the entry if the file really is larger"}
    if [ "$start" -gt "$bound" ]; then
      rm -f -- "$part"; say "$name: the partial download left by an earlier run ($(human "$start")) is larger than $bound bytes, $bound_why; removed it, starting from byte 0"; start=0
    fi
    [ -z "$size" ] || [ "$(free_bytes)" -ge $((size - start)) ] || fail "$name: needs $(human $((size - start))) more, but only $(human "$(free_bytes)") are free on the filesystem of $here; free some space (or choose another modelsDir); nothing was fetched"
    [ "$start" -eq 0 ] || say "$name: resuming at $(human "$start") of an earlier download"
    rc=0; fetch "$src" || rc=$?
    msg=$(tr '\n' ' ' < "$err" 2>/dev/null || true); msg=${msg% }; http=$(http_of "$hdr")
    if [ -n "$over" ]; then rm -f -- "$part" "$hdr" "$err"; fail "$name: stopped fetching $src: $over; the partial download was removed, nothing was placed"; fi
    case $rc in
      0) got=$(size_of "$part")
         [ -z "$size" ] || [ "$got" -eq "$size" ] || { rm -f -- "$part" "$hdr" "$err"; fail "$name: $src gave $got bytes, but sizeBytes declares $size; the download was removed, nothing was placed: check the source and sizeBytes"; }
         [ "$got" -le "$bound" ] || { rm -f -- "$part" "$hdr" "$err"; fail "$name: $src gave $got bytes, more than $bound, $bound_why; the download was removed, nothing was placed"; }
         break ;;
      33) say "$name: the server ignores Range requests; starting again from byte 0"; rm -f -- "$part" ;;
      63) total=$(total_of "$hdr" "$start"); rm -f -- "$part" "$hdr" "$err"
          fail "$name: $src announces ${total:-more than $size} bytes, but sizeBytes declares $size; nothing was placed: check the source and sizeBytes" ;;
      22) case $http in
            416) [ "$start" -gt 0 ] && [ "$(hash_of_part "$part")" = "$sha" ] && break
                 rm -f -- "$part"
                 say "$name: the partial download left by an earlier run ($(human "$start")) is not the start of the file at the source (it answered 416: the file is not longer than that); removed it, starting from byte 0" ;;
            401|403) rm -f -- "$hdr" "$err"
                 [ "$use_token" = 1 ] && fail "$name: $src refused checkpointToken (HTTP $http); check that the token is valid and may read this file (for a gated model, accept its terms on the model's page with the token's account); $(kept)"
                 fail "$name: $src answered HTTP $http: it wants credentials. If the file is gated, set the token (pulumi config set --secret $token_setting <token>) and useToken: true on this entry; $(kept)" ;;
            404|410) rm -f -- "$hdr" "$err"; fail "$name: $src answered HTTP $http (not found): check the URL; $(kept)" ;;
            *) rm -f -- "$hdr" "$err"; fail "$name: $src answered with an HTTP error ($msg); $(kept)" ;;
          esac ;;
      6|7|18|28|52|55|56|92) if [ "$(size_of "$part")" -gt 0 ]; then say "$name: the transfer broke ($msg); will resume"; else say "$name: the transfer failed ($msg); will retry"; fi ;;
      *) rm -f -- "$hdr" "$err"; fail "$name: fetching $src failed ($msg); $(kept)" ;;
    esac
    [ "$n" -lt "$attempts" ] || { rm -f -- "$hdr" "$err"; fail "$name: $src did not complete after $attempts attempts ($msg); $(kept)"; }
    n=$((n + 1)); sleep 2
  done
  rm -f -- "$hdr" "$err"
}
# from_path: copy a host file (links in its path are followed: shared model stores often link) unless it
# lies in a folder the containers write, where it could have become a link to a host secret.
from_path() {
  real=$(readlink -f -- "$src") || real=""
  { [ -n "$real" ] && [ -f "$real" ]; } || fail "$name: the source $src is not a file on this host"
  for w in $written_phys; do
    case $real in "$w"|"$w"/*) fail "$name: the source $src ($real) lies in $w, $in_written; keep the file outside the outputs and models folders (e.g. /srv/shared/models) and give that path as the source" ;; esac
  done
  got=$(stat -c %s -- "$real")
  [ -z "$size" ] || [ "$got" -eq "$size" ] || fail "$name: the source $src is $got bytes, but sizeBytes declares $size; nothing was copied: check the source and sizeBytes"
  [ "$(free_bytes)" -ge "$got" ] || fail "$name: needs $(human "$got"), but only $(human "$(free_bytes)") are free on the filesystem of $here; free some space (or choose another modelsDir); nothing was copied"
  bound=$got; bound_why="the size of the source"; size=$got
  rm -f -- "$part"
  dd if="$real" of="$part" bs=4M status=none & watch $! "$part" "$name (copying $src)" 0 ""
  wait $! 2>/dev/null || { rm -f -- "$part"; fail "$name: copying $src failed${over:+: $over}; nothing was placed"; }
  [ -z "$over" ] || { rm -f -- "$part"; fail "$name: stopped copying $src: $over; nothing was placed"; }
}
# place NAME SHA KIND SOURCE USE_TOKEN SIZE: one entry, in a subshell of its own (its folder, its lock).
place() (
  name=$1 sha=$2 src=$4 use_token=$5 size=$6
  in_place "$name" "$sha" && { say "$name: already in place with sha256 $sha (nothing fetched)"; exit 0; }
  enter_dir "$models" "$ckpt" refuse
  case $name in */*) enter_dir . "${name%/*}" make_root_dir ;; esac
  enter_staging
  base=${name##*/}
  part="$base.$sha.part"; hdr="$base.$sha.headers"; err="$base.$sha.err"
  take_lock "$name" "$base.lock"
  in_place "$name" "$sha" && { say "$name: already in place with sha256 $sha (placed by another run while this one waited; nothing fetched)"; exit 0; }
  case $3 in url) from_url ;; path) from_path ;; esac
  [ -f "$part" ] || fail "$name: the download is missing from $here (removed while this step ran?); nothing was placed: run pulumi up again"
  got=$(hash_of_part "$part")
  if [ "$got" != "$sha" ]; then
    rm -f -- "$part"
    fail "$name from $src has sha256 $got, but the checkpoints setting declares $sha; the download was removed, nothing was placed: check the source or the sha256"
  fi
  chmod 0644 -- "$part"
  still_home
  # A hard link never replaces what is there and never follows a link at the new name; then the part goes.
  ln -P -T -- "$part" "../$base" 2>/dev/null || fail "$name: $target/$base appeared while this step ran; this step never overwrites a file: check it and run pulumi up again"
  rm -f -- "$part"
  say "$name: placed from $src ($(human "$(size_of "../$base")"), sha256 $sha verified)"
)
(enter_dir "$models" "$ckpt" refuse)
count=0
while [ $# -ge 6 ]; do
  place "$1" "$2" "$3" "$4" "$5" "$6"
  count=$((count + 1))
  shift 6
done
say "$count checkpoint(s) in place in $models/$ckpt"
