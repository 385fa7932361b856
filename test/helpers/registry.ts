// A real container registry on loopback (Debian's docker-registry, the Distribution project's server),
// for the tests that need a pull: Docker trusts 127.0.0.0/8 registries over plain HTTP, so nothing else
// is configured. Its storage is a temp dir; every request it serves is in its log, so a test can tell
// whether an image was pulled at all. stop() removes everything it made.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { freePort } from "./standin.js";
import { requireOrSkip } from "./requirements.js";

const BINARY = "/usr/bin/docker-registry";

export interface TestRegistry {
  /** host:port, the prefix of the images it holds (127.0.0.1:NNNNN). */
  address: string;
  /**
   * Tags `image` as <address>/<repository> and pushes it, through this machine's engine or the one `engine`
   * names (["-H", "unix://…"]: an engine that trusts the address, for a registry off loopback); returns the reference.
   */
  push(image: string, repository: string, engine?: string[]): string;
  /** The manifest requests and blob GETs it has served so far (a pull makes at least one). */
  pulls(): string[];
  /** Waits (at most 5 s: it logs a request after answering it) until it has served more than `count`. */
  pulledMoreThan(count: number): Promise<boolean>;
  stop(): Promise<void>;
}

export function requireRegistry(t: TestContext): boolean {
  return requireOrSkip(t, existsSync(BINARY) ? "" : `${BINARY} is missing (apt-get install docker-registry)`);
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 300 });
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.on("connect", () => done(true));
    s.on("timeout", () => done(false));
    s.on("error", () => done(false));
  });
}

/**
 * `host`: the address it listens on (default loopback). Another engine reaches it over plain HTTP only when
 * its daemon.json lists the address in insecure-registries.
 */
export async function startRegistry(host = "127.0.0.1"): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-registry-"));
  const port = await freePort();
  const address = `${host}:${port}`;
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: info",
      "  formatter: text",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "http:",
      `  addr: ${address}`,
      "",
    ].join("\n"),
  );
  const logFile = join(dir, "registry.log");
  let log = "";
  const child: ChildProcess = spawn(BINARY, ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
  const append = (d: Buffer) => {
    log += d.toString();
    writeFileSync(logFile, log);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  let exited = false;
  child.once("exit", () => (exited = true));
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      await new Promise<void>((r) => (exited ? r() : child.once("exit", () => r())));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  while (!(await listening(host, port))) {
    if (exited || Date.now() - t0 > 10_000) {
      await stop();
      throw new Error(`docker-registry did not listen on ${address} within 10 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pushed: string[] = [];
  // A pull asks for the manifest (HEAD when the layers are on the engine already, else GET) and then the blobs.
  const pulls = () =>
    (existsSync(logFile) ? readFileSync(logFile, "utf8") : log)
      .split("\n")
      .filter((l) => /"(GET|HEAD) \/v2\/[^"]+\/manifests\/|"GET \/v2\/[^"]+\/blobs\//.test(l));
  return {
    address,
    push(image, repository, engine = []) {
      const ref = `${address}/${repository}`;
      for (const args of [
        ["tag", image, ref],
        ["push", ref],
      ]) {
        const r = spawnSync("docker", [...engine, ...args], { encoding: "utf8", timeout: 120_000 });
        if (r.status !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
      }
      pushed.push([...engine, ref].join(" "));
      return ref;
    },
    pulls,
    async pulledMoreThan(count) {
      for (const t0 = Date.now(); Date.now() - t0 < 5000; await new Promise((r) => setTimeout(r, 100)))
        if (pulls().length > count) return true;
      return false;
    },
    async stop() {
      for (const p of pushed) {
        const words = p.split(" ");
        spawnSync("docker", [...words.slice(0, -1), "rmi", "-f", words.at(-1)!], { timeout: 30_000 });
      }
      await stop();
    },
  };
}
