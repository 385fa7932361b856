// Checkpoints on an ssh:// Docker host for real: the program's placement command runs over ssh (the test
// host's logins run their commands on this machine's network, where a real HTTP server waits in its own
// process) with its token on the ssh channel's stdin, so curl runs on the host and writes to the host's disk
// directly; the bytes never pass through the deploying program. The smoke then proves the WebUI loaded it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { tokenHeader } from "../../infra/config/checkpoints.js";
import { parseSmokeStdout } from "../../smoke/resource.js";
import { ensureSmokeBuilt } from "../e2e/harness/host.js";
import { dockerStatus, requireDocker } from "../helpers/docker.js";
import { readRequestLog } from "../helpers/file-server.js";
import { requireSshd, sshHostMissing, startSshHost, type TestSshHost } from "../helpers/ssh-host.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { startAgent, type SshAgent } from "./docker-ssh.js";
import { evaluate, remoteStack } from "./fixture.js";
import { Realiser } from "./realise.js";

let host: TestSshHost | undefined;
let agent: SshAgent | undefined;
let server: ChildProcess | undefined;
let realiser: Realiser | undefined;

before(async () => {
  if (!dockerStatus().ok || sshHostMissing()) return; // the test skips (or fails under CI) with the reason
  ensureStandinImage();
  ensureSmokeBuilt();
  host = await startSshHost();
  agent = await startAgent(host.dir, [host.client.file]);
});
after(async () => {
  await realiser?.destroy();
  server?.kill();
  await agent?.stop();
  await host?.stop();
});

/** The test file server in its own process (the realiser's ssh calls block this one), logging to a file. */
async function serveFromProcess(dir: string, requireHeader: string): Promise<{ url: string; log: string }> {
  const log = path.join(dir, "requests.jsonl");
  const config = path.join(dir, "server.json");
  // Port 0: the server takes a free port and prints its URL.
  fs.writeFileSync(config, JSON.stringify({ dir, host: "127.0.0.1", port: 0, requireHeader, logFile: log }), { mode: 0o600 });
  server = spawn(process.execPath, ["--import", "tsx", "test/helpers/file-server-main.ts", config], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the file server did not start in 20 s")), 20_000);
    server!.stdout!.on("data", (d: Buffer) => {
      const m = /listening (\S+)/.exec(d.toString());
      if (!m) return;
      clearTimeout(timer);
      resolve(m[1]!);
    });
  });
  return { url, log };
}

test("ssh host: the checkpoint is fetched by the host itself over its ssh session, with the token on stdin, and proven loaded", { timeout: 180_000 }, async (t: TestContext) => {
  if (!requireDocker(t) || !requireSshd(t)) return;
  if (!host) throw new Error("the SSH test host did not start (see the before hook's error)");
  const h = host;
  const dir = fs.mkdtempSync(path.join("/tmp", "sdwebui-ckpt-ssh-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bytes = randomBytes(2 * 1024 * 1024);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  fs.writeFileSync(path.join(dir, "remote.safetensors"), bytes);
  const token = `tok_${randomBytes(16).toString("hex")}`;
  const { url, log } = await serveFromProcess(dir, tokenHeader(token));
  assert.match(url, /^http:\/\/127\.0\.0\.1:/);

  const stack = remoteStack(h, await freePort());
  const ev = await evaluate(stack.input(
    { checkpoints: JSON.stringify([{ source: `${url}/remote.safetensors`, sha256, useToken: true }]) },
    { checkpointToken: token },
  ));
  realiser = new Realiser({ agentSock: agent!.sock, log: (l) => t.diagnostic(l) });
  const before = h.commands().length;
  await realiser.deploy(ev);

  const placed = path.join(stack.modelsDir, "Stable-diffusion", "remote.safetensors");
  assert.deepEqual(fs.readFileSync(placed), bytes);
  const requests = readRequestLog(log);
  assert.equal(requests.length, 1, "one download");
  assert.equal(requests[0]!.authorised, true, "the token reached the server");
  const ran = h.commands().slice(before);
  assert.ok(ran.some((c) => c.includes("sdwebui checkpoints")), "the placement script ran over ssh");
  for (const c of ran) assert.ok(!c.includes(token), "the token is on no remote command line");
  const placement = realiser.done.find((d) => d.reg.name.endsWith("-checkpoints"))!;
  assert.ok(!String(placement.stdout).includes(token) && !String(placement.inputs.create).includes(token));

  const smoke = realiser.done.find((d) => d.reg.name.endsWith("-smoke"))!;
  const proof = parseSmokeStdout(smoke.stdout) as ReturnType<typeof parseSmokeStdout> & { checkpoints?: { loaded: { name: string; sha256: string } } };
  assert.equal(proof.checkpoints?.loaded.name, "remote.safetensors");
  assert.equal(proof.checkpoints?.loaded.sha256, sha256);
});
