// The checkpoint placement step: a POSIX sh script, run on the Docker host before the container starts,
// that leaves exactly the declared files in <modelsDir>/Stable-diffusion. A file already there with the
// right sha256 is kept (no download); anything else is fetched to a temporary name next to the target
// (resuming an earlier partial download), checked against its sha256 and only then renamed into place.
// It never changes or removes a file it did not write, and it has no delete step: models outlive the stack.
import { CHECKPOINTS_SUBDIR, Checkpoint, fileNameProblem } from "./config/checkpoints.js";
import { assertSafeAbsolutePath, shellQuote } from "./shell.js";

export interface PlacementInput {
  modelsDir: string;
  checkpoints: Checkpoint[];
  /** Seconds below 1 KiB/s after which a download attempt is given up (then resumed, up to `attempts`). */
  stallSeconds?: number;
  attempts?: number;
  /** Seconds between progress lines of a long transfer. */
  progressSeconds?: number;
}

/** The temporary name of a download: next to the target, never listed by the WebUI, one per expected hash. */
export function partName(fileName: string, sha256: string): string {
  return `${fileName}.${sha256.slice(0, 12)}.sdwebui-part`;
}

/** Does any entry send the token? Then the script reads the header line from its stdin. */
export const needsToken = (checkpoints: Checkpoint[]): boolean => checkpoints.some((c) => c.useToken);

function entryLine(c: Checkpoint): string {
  // Checked again at the shell boundary: the setting's validator has refused anything else already.
  if (fileNameProblem(c.fileName) !== "") throw new Error(`checkpoints: "${c.fileName}" is not a safe file name`);
  if (!/^[0-9a-f]{64}$/.test(c.sha256)) throw new Error(`checkpoints: "${c.sha256}" is not a sha256`);
  if (c.source.kind === "path") {
    assertSafeAbsolutePath(c.source.path, "checkpoints");
    return `place_path ${shellQuote(c.fileName)} ${c.sha256} ${shellQuote(c.source.path)} ${shellQuote(partName(c.fileName, c.sha256))}`;
  }
  const url = c.source.url.href;
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(url) || url.includes("'")) throw new Error(`checkpoints: "${url}" is not a plain http(s) URL`);
  return `place_url ${shellQuote(c.fileName)} ${c.sha256} '${url}' ${c.useToken ? 1 : 0} ${shellQuote(partName(c.fileName, c.sha256))}`;
}

export function placementScript(input: PlacementInput): string {
  assertSafeAbsolutePath(input.modelsDir, "checkpoints");
  const stall = input.stallSeconds ?? 60;
  const attempts = input.attempts ?? 5;
  const dir = `${input.modelsDir}/${CHECKPOINTS_SUBDIR}`;
  return `set -eu
umask 022
dir=${shellQuote(dir)}
stall=${stall}
every=${input.progressSeconds ?? 5}
attempts=${attempts}
fail() { echo "sdwebui checkpoints: $*" >&2; exit 1; }
say() { echo "sdwebui checkpoints: $*"; }
for tool in sha256sum stat mv; do command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing on this host; install coreutils"; done
[ -d "$dir" ] || fail "$dir does not exist (the host folders step creates it); run pulumi up again"
token_header=""
${needsToken(input.checkpoints) ? 'IFS= read -r token_header || true\n[ -n "$token_header" ] || fail "no token reached the placement step on its stdin (checkpointToken)"' : ""}
hash_of() { sha256sum "$1" | cut -d ' ' -f 1; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
human() { awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u, " "); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ } if (i == 1) printf "%d %s", b, u[i]; else printf "%.1f %s", b, u[i] }'; }
# total_of HEADERS START: the full size from the last response's Content-Range, else START + Content-Length.
total_of() {
  tr -d '\\r' < "$1" 2>/dev/null | awk -v start="$2" 'tolower($1) == "content-range:" { n = split($3, a, "/"); t = a[n] } tolower($1) == "content-length:" { l = $2 } END { if (t != "" && t != "*") print t; else if (l != "") print start + l; else print "" }'
}
# watch PID FILE LABEL START TOTAL_HEADERS: progress every $every s while PID runs (bytes, rate, elapsed).
watch() {
  t0=$(date +%s); last=$t0
  while kill -0 "$1" 2>/dev/null; do
    sleep 0.2
    now=$(date +%s)
    [ $((now - last)) -ge "$every" ] || continue
    last=$now; got=$(size_of "$2"); el=$((now - t0)); rate=$(( (got - $4) / (el > 0 ? el : 1) ))
    total=""; [ -z "$5" ] || total=$(total_of "$5" "$4")
    say "$3: $(human "$got")\${total:+ of $(human "$total")}, $(human "$rate")/s, \${el}s elapsed (an attempt stalled below 1 KiB/s for \${stall}s is retried)"
  done
}
# verified FILE SHA: does FILE exist with that sha256?
verified() { [ -f "$1" ] && [ "$(hash_of "$1")" = "$2" ]; }
# in_place NAME SHA: true when the target already holds the declared file; fails when it holds another.
in_place() {
  target="$dir/$1"
  [ -e "$target" ] || [ -L "$target" ] || return 1
  # A symlink to the right file counts as in place (models are often linked in from a shared disk).
  [ -f "$target" ] || fail "$target exists but is not a file (or a link to one); this step never touches it: move it away"
  got=$(hash_of "$target")
  [ "$got" = "$2" ] && { say "$1: already in place with sha256 $2 (nothing fetched)"; return 0; }
  fail "$target exists with sha256 $got, not the declared $2; this step never overwrites a file: move it away (or correct the sha256 in the checkpoints setting)"
}
# The arguments of place_path and place_url: NAME SHA SOURCE [USE_TOKEN] PART, PART the temporary name.
# finish NAME SHA PART SOURCE: check the hash, then rename into place; a mismatch removes the temporary file.
finish() {
  got=$(hash_of "$3")
  if [ "$got" != "$2" ]; then
    rm -f "$3"
    fail "$1 from $4 has sha256 $got, but the checkpoints setting declares $2; the download was removed, nothing was placed: check the source or the sha256"
  fi
  chmod 0644 "$3"
  mv -f "$3" "$dir/$1"
  say "$1: placed from $4 ($(human "$(size_of "$dir/$1")"), sha256 $2 verified)"
}
place_path() {
  in_place "$1" "$2" && return 0
  [ -f "$3" ] || fail "$1: the source $3 is not a file on this host"
  part="$dir/$4"
  mkdir -p "$(dirname "$part")"
  rm -f "$part"
  cp "$3" "$part" & watch $! "$part" "$1 (copying $3)" 0 ""
  wait $! || { rm -f "$part"; fail "$1: copying $3 failed"; }
  finish "$1" "$2" "$part" "$3"
}
# fetch URL PART HEADERS USE_TOKEN LABEL START: one curl attempt, resuming PART; returns curl's exit status.
# curl reads its config from stdin: the token's header line for USE_TOKEN 1, nothing otherwise.
fetch() {
  { [ "$4" = 0 ] || printf 'header = "%s"\\n' "$token_header"; } |
    curl --config - -fsS -L --proto '=http,https' --connect-timeout 30 --speed-limit 1024 --speed-time "$stall" -C - -D "$3" -o "$2" "$1" 2>"$3.err" &
  pid=$!
  watch "$pid" "$2" "$5" "$6" "$3"
  rc=0; wait "$pid" || rc=$?
  return "$rc"
}
place_url() {
  in_place "$1" "$2" && return 0
  command -v curl >/dev/null 2>&1 || fail "curl is missing on this host; install it (apt-get install curl) to fetch $3"
  part="$dir/$5"
  headers="$part.headers"
  with_token=""; [ "$4" = 0 ] || with_token=" and checkpointToken"
  mkdir -p "$(dirname "$part")"
  n=1
  while :; do
    start=$(size_of "$part")
    [ "$start" -eq 0 ] || say "$1: resuming at $(human "$start") of an earlier download"
    rc=0; fetch "$3" "$part" "$headers" "$4" "$1 (attempt $n of $attempts)" "$start" || rc=$?
    err=$(cat "$headers.err" 2>/dev/null || true); rm -f "$headers.err"
    case $rc in
      0) break ;;
      33) say "$1: the server ignores Range requests; starting again from byte 0"; rm -f "$part" ;;
      # A complete earlier download is answered 416 to its Range request: the hash decides.
      22) [ "$start" -gt 0 ] && verified "$part" "$2" && break
          rm -f "$part" "$headers"; fail "$1: $3 answered with an HTTP error ($err); nothing was placed: check the URL$with_token" ;;
      6|7|18|28|52|55|56|92) say "$1: the transfer broke ($err); will resume" ;;
      *) rm -f "$headers"; fail "$1: fetching $3 failed ($err); the partial download is kept to resume next time" ;;
    esac
    [ "$n" -lt "$attempts" ] || { rm -f "$headers"; fail "$1: $3 did not complete after $attempts attempts ($err); the partial download is kept and the next pulumi up resumes it"; }
    n=$((n + 1)); sleep 2
  done
  rm -f "$headers"
  finish "$1" "$2" "$part" "$3"
}
${input.checkpoints.map(entryLine).join("\n")}
say "${input.checkpoints.length} checkpoint(s) in place in $dir"
`;
}
