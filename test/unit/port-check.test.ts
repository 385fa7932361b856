// The port preflight, run for real with /bin/sh against real listeners on loopback.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { portCheckScript } from "../../infra/docker/steps/port-check.js";
import { requireShellcheck } from "../helpers/requirements.js";

const dir = mkdtempSync(join(tmpdir(), "sdwebui-preflight-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    );
  });
}
const run = (script: string) => spawnSync("/bin/sh", ["-c", script], { encoding: "utf8", timeout: 10_000 });

describe("port preflight", () => {
  it("passes shellcheck and refuses bad input", (t) => {
    assert.throws(
      () => portCheckScript({ port: 0, containerName: "c", stackLabel: { project: "p", stack: "s" }, setting: "s" }),
      /not a TCP port/,
    );
    assert.throws(
      () => portCheckScript({ port: 80, containerName: "c;x", stackLabel: { project: "p", stack: "s" }, setting: "s" }),
      /not a container name/,
    );
    if (!requireShellcheck(t)) return;
    const f = join(dir, "p.sh");
    writeFileSync(
      f,
      portCheckScript({
        port: 7860,
        containerName: "sdwebui-dev",
        stackLabel: { project: "sdwebui", stack: "dev" },
        setting: "sdwebui:hostPort",
      }),
    );
    execFileSync("shellcheck", ["-s", "sh", f]);
  });

  it("a free port passes; a taken one fails naming the port, the listener and the fix", async () => {
    const { server, port } = await listen();
    try {
      const taken = run(
        portCheckScript({
          port,
          containerName: "sdwebui-dev",
          stackLabel: { project: "sdwebui", stack: "dev" },
          setting: "sdwebui:hostPort",
        }),
      );
      assert.equal(taken.status, 1);
      assert.match(
        taken.stderr,
        new RegExp(`port ${port} on this host is already in use by .*127\\.0\\.0\\.1:${port}`),
      );
      assert.match(
        taken.stderr,
        new RegExp(`fix: choose another port \\(pulumi config set sdwebui:hostPort ${port + 1}\\)`),
      );
    } finally {
      server.close();
    }
    await new Promise((r) => setTimeout(r, 100));
    const free = run(
      portCheckScript({
        port,
        containerName: "sdwebui-dev",
        stackLabel: { project: "sdwebui", stack: "dev" },
        setting: "sdwebui:hostPort",
      }),
    );
    assert.equal(free.status, 0, free.stderr);
    assert.match(free.stdout, /is free/);
  });
});
