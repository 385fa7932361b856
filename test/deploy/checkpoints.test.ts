// Checkpoints through the real CLI: over ssh the remote host itself fetches the declared file (curl on the
// host, from a server on this side of its link); on this machine's engine the token rides on the step's
// stdin, which the state keeps encrypted. The WebUI starts with the file loaded first and the smoke proves
// it. A second up fetches nothing; destroy leaves the model in place.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { tokenHeader } from "../../infra/config/checkpoints.js";
import { readRequestLog } from "../helpers/file-server.js";
import { ensureSmokeBuilt } from "../helpers/host-state.js";
import { filesContaining, requireEngine } from "../helpers/pulumi-cli.js";
import { requireRemoteHost, startRemoteHost, type RemoteHost } from "../helpers/remote-host.js";
import { startAgent, type SshAgent } from "../helpers/ssh-agent.js";
import { ensureStandinImage, freePort, STANDIN_IMAGE } from "../helpers/standin.js";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { programStack } from "./fixture.js";

let host: RemoteHost | undefined;
let agent: SshAgent | undefined;
let server: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), "sdwebui-ckpt-deploy-"));
before(async () => {
  if (process.getuid?.() !== 0) return;
  ensureStandinImage();
  ensureSmokeBuilt();
  host = await startRemoteHost({ images: [STANDIN_IMAGE] });
  agent = await startAgent(host.dir, [host.client.file]);
});
after(async () => {
  server?.kill();
  await agent?.stop();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The file server in its own process (the CLI runs synchronously here), on this side of the host's link. */
async function serve(address: string, requireHeader: string | undefined): Promise<{ url: string; log: string }> {
  server?.kill();
  const log = join(dir, `requests-${address}.jsonl`);
  const config = join(dir, "server.json");
  writeFileSync(config, JSON.stringify({ dir, host: address, port: 0, requireHeader, logFile: log }), { mode: 0o600 });
  server = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "test/helpers/file-server-main.ts"), config], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the file server did not start in 20 s")), 20_000);
    server!.stdout!.on("data", (d: Buffer) => {
      const m = /listening (\S+)/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { url, log };
}

for (const where of ["ssh", "local"] as const) {
  // A token goes to plain http:// only on loopback (the settings refuse it elsewhere): with the token on this
  // machine's engine, without it over ssh (the server is across the host's link).
  const withToken = where === "local";
  test(
    `${where === "ssh" ? "over ssh, the host itself fetches" : "on this machine's engine, with a token on stdin only,"} the checkpoint; loaded first and proven; no second fetch; kept on destroy`,
    { timeout: 600_000 },
    async (t) => {
      if (!requireEngine(t) || !requireRemoteHost(t)) return;
      const bytes = randomBytes(2 * 1024 * 1024);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      writeFileSync(join(dir, `${where}.safetensors`), bytes);
      const token = `tok_${randomBytes(16).toString("hex")}`;
      const { url, log } = await serve(
        where === "ssh" ? host!.peerAddr : "127.0.0.1",
        withToken ? tokenHeader(token) : undefined,
      );
      const source = { source: `${url}/${where}.safetensors`, sha256, ...(withToken ? { useToken: true } : {}) };
      // The remote host has its ports to itself; on this machine's engine take a free one.
      const s = programStack({
        hostPort: where === "ssh" ? 7860 : await freePort(),
        ...(where === "ssh" ? { remote: { host: host!, agentSock: agent!.sock } } : {}),
        settings: { checkpoints: [source] },
      });
      t.after(() => s.cleanUp());
      if (withToken) s.stack.setConfig({ checkpointToken: token }, ["checkpointToken"], "sdwebui");

      s.up();
      const placed = join(s.modelsDir, "Stable-diffusion", `${where}.safetensors`);
      assert.deepEqual(readFileSync(placed), bytes);
      const requests = readRequestLog(log);
      assert.equal(requests.length, 1, "one download");
      if (withToken) {
        assert.equal(requests[0]!.authorised, true, "the token reached the server");
        // The token is in the step's secret stdin only: not in its command line, its output, or anything printed.
        const placement = s.stack.resourcesWithSecrets().find((r) => r.urn.endsWith("sdwebui-checkpoints"))!;
        assert.ok(
          !JSON.stringify(placement.inputs?.create).includes(token) &&
            !JSON.stringify(placement.outputs?.stdout).includes(token),
        );
        assert.ok(JSON.stringify(placement.inputs?.stdin).includes(token), "it travels on stdin");
        assert.deepEqual(filesContaining(s.project.stateDir, token), [], "the state holds it encrypted");
        assert.ok(!s.printed.some((p) => p.includes(token)));
      }
      const proof = s.stack.outputs().smokeFile as string;
      assert.ok(proof.startsWith(`${s.outputsDir}/`));
      const png = readFileSync(proof).toString("latin1");
      assert.match(
        png,
        new RegExp(`Model hash: ${sha256.slice(0, 10)}`),
        "the proof image names the loaded model's hash",
      );
      assert.match(png, new RegExp(`Model: ${where}`));

      s.up(["--expect-no-changes"]);
      assert.equal(readRequestLog(log).length, 1, "no second download");
      s.stack.destroy();
      assert.deepEqual(readFileSync(placed), bytes, "destroy leaves the model");
      server?.kill();
    },
  );
}
