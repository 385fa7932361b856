// The preflight's image pull, run for real with /bin/sh against the Docker engine and a registry on
// loopback: an image on the host is never pulled; a missing one is pulled with progress lines; a failed
// pull and one that outlasts its limit fail with the reason and the fix.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { imagePullScript, PULL_PROGRESS_SECONDS } from "../../infra/docker/steps/image-pull.js";
import { preflightScript } from "../../infra/docker/steps/port-check.js";
import { requireDocker } from "../helpers/docker.js";
import { requireRegistry, startRegistry, type TestRegistry } from "../helpers/registry.js";
import { requireShellcheck } from "../helpers/requirements.js";
import { ensureStandinImage, STANDIN_IMAGE } from "../helpers/standin.js";

const dir = mkdtempSync(join(tmpdir(), "sdwebui-image-pull-"));
const setting = "sdwebui:imagePullTimeoutSeconds";
const run = (script: string, timeout = 120_000) =>
  new Promise<{ status: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    const t0 = Date.now();
    const child = spawn("/bin/sh", ["-c", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.on("close", (status) => (clearTimeout(killer), resolve({ status, stdout, stderr, ms: Date.now() - t0 })));
  });

describe("image pull before anything changes", () => {
  let registry: TestRegistry | undefined;
  before(() => ensureStandinImage());
  after(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes shellcheck, alone and in the preflight, and refuses a limit that is not seconds", (t) => {
    assert.throws(() => imagePullScript({ image: "x:1", limitSeconds: 0, setting }), /not a limit in seconds/);
    assert.throws(() => imagePullScript({ image: "x;y", limitSeconds: 60, setting }), /not an image reference/);
    if (!requireShellcheck(t)) return;
    const f = join(dir, "pull.sh");
    writeFileSync(
      f,
      preflightScript(
        ["set -u\necho port ok\n"],
        imagePullScript({ image: "registry.example:5000/sd/webui:full", limitSeconds: 60, setting }),
      ),
    );
    execFileSync("shellcheck", ["-s", "sh", f]);
  });

  it("an image already on the host is not pulled: the registry sees no request", async (t) => {
    if (!requireDocker(t) || !requireRegistry(t)) return;
    registry ??= await startRegistry();
    const ref = registry.push(STANDIN_IMAGE, "sdwebui-test/present:1");
    const before = registry.pulls().length;
    const r = await run(imagePullScript({ image: ref, limitSeconds: 60, setting }));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /is on this host/);
    assert.equal(registry.pulls().length, before, "no manifest or blob was fetched");
  });

  it("a missing image is pulled from the registry, with docker's layer lines and a closing line", async (t) => {
    if (!requireDocker(t) || !requireRegistry(t)) return;
    registry ??= await startRegistry();
    const ref = registry.push(STANDIN_IMAGE, "sdwebui-test/absent:1");
    spawnSync("docker", ["rmi", ref], { timeout: 30_000 });
    const before = registry.pulls().length;
    const r = await run(imagePullScript({ image: ref, limitSeconds: 120, setting }));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`pulling ${ref.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(limit 120s\\)`));
    assert.match(
      r.stdout,
      /Pull complete|Downloaded newer image|Status: /,
      "docker's own progress lines reach the output",
    );
    assert.match(r.stdout, /pulled .* in \d+s/);
    assert.ok(await registry.pulledMoreThan(before), "the registry served the image");
    assert.equal(spawnSync("docker", ["image", "inspect", ref]).status, 0, "the image is on the host now");
  });

  it("an image the registry does not have fails with docker's reason and the fix", async (t) => {
    if (!requireDocker(t) || !requireRegistry(t)) return;
    registry ??= await startRegistry();
    const r = await run(
      imagePullScript({ image: `${registry.address}/sdwebui-test/never-pushed:1`, limitSeconds: 60, setting }),
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not found|manifest unknown/i);
    assert.match(r.stderr, /fix: check the image setting/);
  });

  it("a pull that outlasts its limit is stopped, with progress on the way and the fix naming the setting", async (t) => {
    if (!requireDocker(t)) return;
    // A "registry" that accepts connections and never answers: docker pull waits on it.
    const held: Socket[] = [];
    const server: Server = await new Promise((resolve) => {
      const s = createServer((c) => void held.push(c)).listen(0, "127.0.0.1", () => resolve(s));
    });
    try {
      const port = (server.address() as { port: number }).port;
      const limit = PULL_PROGRESS_SECONDS + 2;
      const r = await run(
        imagePullScript({ image: `127.0.0.1:${port}/sdwebui-test/stalled:1`, limitSeconds: limit, setting }),
        120_000,
      );
      assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(
        r.stdout,
        new RegExp(`\\d+s elapsed \\(limit ${limit}s\\)`),
        "a progress line with elapsed time and the limit",
      );
      assert.match(r.stderr, new RegExp(`did not finish within ${limit}s`));
      assert.match(r.stderr, new RegExp(`fix: raise the limit \\(pulumi config set ${setting} <seconds>\\)`));
      assert.ok(r.ms < (limit + 10) * 1000, `stopped at the limit (${r.ms} ms)`);
    } finally {
      for (const c of held) c.destroy();
      server.close();
    }
  });
});
