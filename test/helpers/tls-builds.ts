// The TLS proxy's test parts built by test/tls/build.sh (which holds their versions): the Caddy image
// and the Pebble binaries. Each call runs the script, which returns at once when its cache is current
// and builds (a few minutes cold on 2 cores) when it is not; the script's one stdout line is the answer.
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";

const REPO = resolve(__dirname, "../..");
const SCRIPT = join(REPO, "test", "tls", "build.sh");
/** A cold build's bound: the script's own limit on one go install is 30 min. */
const BUILD_TIMEOUT_MS = 35 * 60 * 1000;

const answers = new Map<string, string>();

function build(what: "caddy" | "pebble", npmScript: string): string {
  const known = answers.get(what);
  if (known) return known; // once per test process: parallel callers must not run parallel builds
  try {
    const out = execFileSync("bash", [SCRIPT, what], {
      cwd: REPO,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: BUILD_TIMEOUT_MS,
    });
    const answer = out.trim().split("\n").pop() ?? "";
    if (!answer) throw new Error(`${SCRIPT} ${what} printed nothing on stdout`);
    answers.set(what, answer);
    return answer;
  } catch (e) {
    const x = e as { stderr?: string; message: string };
    throw new Error(`${npmScript} failed: ${(x.stderr || x.message).trim().split("\n").slice(-15).join("\n")}`);
  }
}

/** The reference of the Caddy test image (sdwebui-caddy:<version>), built or imported if missing. */
export const ensureCaddyImage = (): string => build("caddy", "npm run caddy:image");

/** The folder holding `pebble` and `pebble-challtestsrv`, built if missing. */
export function ensurePebbleBinaries(): { pebble: string; challtestsrv: string } {
  const dir = build("pebble", "npm run pebble:build");
  return { pebble: join(dir, "pebble"), challtestsrv: join(dir, "pebble-challtestsrv") };
}
