// The docker provider's own configuration through the real engine: a host change is an in-place update
// that leaves its resources alone (P4), when the daemon is contacted (Configure for unix://, P13; first
// CRUD call for ssh://), an ssh:// host through docker/cli's connhelper with the program's sshOpts, and
// the stand-in's refusals of what it does not model. Sources: bridge v3.133.0 provider.go:774-893
// (DiffConfig), pulumi-docker provider.go:80-104 / image.go:931-992 (native Configure), kreuzwerker
// v4.5.0 config.go:166-204, docker/cli v28.5.2 cli/connhelper.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sshOpts } from "../../infra/docker/ssh.js";
import { output } from "../helpers/engine-stack.js";
import { requireRemoteHost, startRemoteHost } from "../helpers/remote-host.js";
import { STANDIN_IMAGE } from "../helpers/standin.js";
import { startAgent } from "../helpers/ssh-agent.js";
import {
  CONTAINER,
  cliEnv,
  containerName,
  dockerStack,
  inspect,
  LOCAL_ENGINE,
  opsOf,
  planText,
  REMOTE_IMAGE,
  stateOf,
  standinOnly,
  webContainer,
} from "./docker-engine.js";

describe("docker provider configuration", () => {
  it('a host change is an in-place provider update; its container and image stay "same" (P4: DiffConfig has no ForcesProviderReplace)', (t) => {
    const name = containerName(t, "p4");
    const resources = {
      images: { img: { name: STANDIN_IMAGE, keepLocally: true } },
      containers: { c: webContainer(name) },
    };
    const stack = dockerStack(t, "dk-p4", { config: { provider: { host: LOCAL_ENGINE }, ...resources } });
    if (!stack) return;
    stack.up();
    const id = inspect(name)!.Id;
    // The same daemon under another spelling (/var/run is a link to /run): only the setting changes.
    stack.setConfig({ provider: { host: "unix:///run/docker.sock" } });
    const plan = stack.changes();
    assert.deepEqual(
      plan.map((c) => [c.name, c.op]),
      [["docker", "update"]],
      `only the provider changes: ${planText(plan)}`,
    );
    assert.deepEqual(plan[0]!.diffs, ["host"]);
    stack.up();
    assert.equal(inspect(name)!.Id, id, "the container was not touched");
    assert.deepEqual(stack.changes(), []);
  });

  it("Configure pings an explicit unix:// host, so even preview fails without that daemon (P13)", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "sdw-dk-nodaemon-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const stack = dockerStack(t, "dk-p13", {
      config: { provider: { host: `unix://${dir}/docker.sock` }, containers: { c: webContainer("sdw-dk-never") } },
    });
    if (!stack) return;
    const r = stack.fails(["preview"]);
    assert.match(
      output(r),
      /docker native provider returned an unexpected error from Configure: failed to connect to any docker daemon/,
    );
  });

  it("an ssh:// host is not contacted by preview; the first CRUD call pings it and fails with the connhelper's error (config.go:193-204)", (t) => {
    const stack = dockerStack(t, "dk-ssh-down", {
      config: {
        provider: { host: "ssh://root@127.0.0.1:1", sshOpts: ["-o", "BatchMode=yes"] },
        containers: { c: webContainer("sdw-dk-never") },
      },
    });
    if (!stack) return;
    const plan = stack.changes();
    assert.deepEqual(opsOf(plan, "c"), ["create"], planText(plan));
    const r = stack.fails(["up", "--yes", "--skip-preview"]);
    const text = output(r);
    assert.match(
      text,
      /Error pinging Docker server, please make sure that ssh:\/\/root@127\.0\.0\.1:1 is reachable and has a {2}'_ping' endpoint/,
    );
    assert.match(
      text,
      /command \[ssh .*-o BatchMode=yes.*-T -- 127\.0\.0\.1 docker system dial-stdio\] has exited with exit status 255/,
    );
    assert.equal(stateOf(stack, CONTAINER, "c"), undefined, "nothing was created");
  });

  it("an ssh:// host through connhelper with infra/docker/ssh.ts sshOpts (pinned host key, key from the agent): image and container on the remote engine", async (t) => {
    if (!requireRemoteHost(t)) return;
    const host = await startRemoteHost({ images: [STANDIN_IMAGE] });
    t.after(() => host.stop());
    const agentDir = mkdtempSync(join(tmpdir(), "sdw-dk-agent-"));
    t.after(() => rmSync(agentDir, { recursive: true, force: true }));
    const agent = await startAgent(agentDir, [host.client.file]);
    t.after(() => agent.stop());
    const engine = ["-H", `unix://${host.dockerSocket}`];
    const name = containerName(t, "ssh", engine);
    const config = {
      provider: { host: host.dockerHost(), sshOpts: sshOpts(host.knownHosts) },
      images: { img: { name: STANDIN_IMAGE, keepLocally: true } },
      containers: { c: { imageFrom: "img", name, ports: [{ internal: 8080, external: 18434, ip: "0.0.0.0" }] } },
    };
    const stack = dockerStack(t, "dk-ssh", { config, env: cliEnv({ SSH_AUTH_SOCK: agent.sock }) });
    if (!stack) return;
    stack.up();
    const remote = inspect(name, engine);
    assert.equal(remote?.State.Status, "running", "the container runs on the remote engine");
    assert.equal(inspect(name), undefined, "and not on this machine's");
    assert.equal(
      stateOf(stack, REMOTE_IMAGE, "img")?.outputs?.imageId,
      remote?.Image,
      "the image found there (loaded, not pulled)",
    );
    assert.deepEqual(stack.changes(), []);
    stack.destroy();
    assert.equal(inspect(name, engine), undefined);
  });
});

describe("what the docker stand-in refuses (the real plugin has these)", () => {
  it("a Container input it does not model fails the preview, naming it", (t) => {
    if (!standinOnly(t)) return;
    const stack = dockerStack(t, "dk-refuse-input", {
      config: {
        provider: { host: LOCAL_ENGINE },
        containers: { c: webContainer("sdw-dk-never", { privileged: true }) },
      },
    });
    if (!stack) return;
    assert.match(output(stack.fails(["preview"])), /privileged/);
  });

  it("a provider setting it does not model fails the preview, naming it", (t) => {
    if (!standinOnly(t)) return;
    const stack = dockerStack(t, "dk-refuse-setting", {
      config: { provider: { host: LOCAL_ENGINE, certPath: "/nonexistent" } },
    });
    if (!stack) return;
    assert.match(output(stack.fails(["preview"])), /certPath/);
  });

  it("a resource type it does not serve fails the preview, naming the token", (t) => {
    if (!standinOnly(t)) return;
    const stack = dockerStack(t, "dk-refuse-type", {
      config: { provider: { host: LOCAL_ENGINE }, volumes: { v: { name: "sdw-dk-never" } } },
    });
    if (!stack) return;
    assert.match(output(stack.fails(["preview"])), /docker:index\/volume:Volume/);
  });
});
