// The container the firewall tests protect: it publishes a host port and answers GET with 200.
// Uses the project's stand-in image when it has been built (npm run standin:image); otherwise builds a
// minimal one here (the host's node binary + its libraries + a 3-line server, via docker import).
import { execFileSync } from "node:child_process";
import { get } from "node:http";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { docker } from "../helpers/docker.js";

const STANDIN = "sd-webui-standin:dev";
const FALLBACK = "sdwebui-fw-target:test";
const SERVER =
  'process.on("SIGTERM",()=>process.exit(0));' +
  'require("http").createServer((q,s)=>{s.writeHead(200,{"content-type":"application/json"});s.end("{}")}).listen(8080,"0.0.0.0")';

function exists(image: string): boolean {
  try {
    docker(["image", "inspect", image], { timeoutMs: 15_000 });
    return true;
  } catch {
    return false;
  }
}

function buildFallback(): void {
  const root = mkdtempSync(join(tmpdir(), "sdwebui-fw-img-"));
  try {
    const node = execFileSync("readlink", ["-f", process.execPath], { encoding: "utf8" }).trim();
    const libs = execFileSync("ldd", [node], { encoding: "utf8" })
      .split("\n")
      .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
      .filter((p): p is string => !!p);
    for (const file of [...libs, node]) {
      const dest = join(root, file === node ? "/node" : file);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(file, dest);
    }
    const tar = execFileSync("tar", ["-C", root, "-c", "."], { maxBuffer: 1 << 30, timeout: 60_000 });
    docker(["import", "--change", `ENTRYPOINT ["/node","-e",${JSON.stringify(SERVER)}]`, "-", FALLBACK], {
      input: tar as unknown as string,
      timeoutMs: 120_000,
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The image to run and the arguments that make it listen on 8080 inside. */
export function targetImage(): { image: string; args: string[] } {
  // The stand-in's ENTRYPOINT already carries --listen --port 8080 (the universonic profile).
  if (exists(STANDIN)) return { image: STANDIN, args: [] };
  if (!exists(FALLBACK)) buildFallback();
  return { image: FALLBACK, args: [] };
}

export interface Target {
  id: string;
  name: string;
  remove(): void;
}

/** Run the target publishing hostPort on 0.0.0.0 and [::]; waits (bounded) until it answers on loopback. */
export async function startTarget(name: string, hostPort: number): Promise<Target> {
  const { image, args } = targetImage();
  spawnRemove(name);
  const id = docker([
    "run", "-d", "--name", name, "--label", "sdwebui-test=firewall",
    "-p", `0.0.0.0:${hostPort}:8080`, "-p", `[::]:${hostPort}:8080`,
    image, ...args,
  ]).trim();
  const target = { id, name, remove: () => spawnRemove(name) };
  const deadline = Date.now() + 20_000;
  while ((await ping(hostPort)) !== 200) {
    if (Date.now() > deadline) {
      target.remove();
      throw new Error(`container ${name} did not answer on 127.0.0.1:${hostPort} within 20 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return target;
}

/** GET /internal/ping on loopback: the status code, or 0 when it does not answer within 1 s. */
export function ping(hostPort: number): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port: hostPort, path: "/internal/ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

function spawnRemove(name: string): void {
  try {
    docker(["rm", "-f", name], { timeoutMs: 30_000 });
  } catch {
    // absent: nothing to remove
  }
}
