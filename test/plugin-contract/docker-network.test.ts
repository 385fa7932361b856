// Network through the real engine: created with its name, read back without a diff, joined by containers
// through networkMode (they resolve each other by name), replaced on any input change, dropped by a
// refresh when removed by hand, and removed on destroy once its last endpoint is gone. Sources:
// kreuzwerker v4.5.0 resource_docker_network.go (every input ForceNew, no Update; driver, options and
// internal Optional+Computed; ipam_driver default "default"), resource_docker_network_funcs.go (Create
// with the options that are set, then Read; Read's StateChangeConf; the remove refresh that retries
// "has active endpoints" for up to 30 s and forgives a network already gone).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { describe, it, type TestContext } from "node:test";
import {
  changeOf,
  containerName,
  dockerCli,
  dockerStack,
  LOCAL_ENGINE,
  stateOf,
  webContainer,
} from "./docker-engine.js";

const NETWORK = "docker:index/network:Network";
const provider = { host: LOCAL_ENGINE };

/** A network name unique to this test process, removed (with `docker network rm`) when the test ends. */
function networkName(t: TestContext, what: string): string {
  const name = `sdw-dk-${process.pid}-${what}`;
  t.after(() => spawnSync("docker", ["network", "rm", name], { stdio: "ignore", timeout: 60_000 }));
  return name;
}

const networkExists = (name: string) =>
  spawnSync("docker", ["network", "inspect", name], { stdio: "ignore", timeout: 30_000 }).status === 0;

describe("Network under the real engine", () => {
  it("is created with its name and read back unchanged; containers with networkMode = its name join it and resolve each other by name", (t) => {
    const net = networkName(t, "net");
    const a = containerName(t, "net-a");
    const b = containerName(t, "net-b");
    const stack = dockerStack(t, "dk-net-join", {
      config: {
        provider,
        networks: { n: { name: net, labels: [{ label: "sdwebui.test", value: "1" }] } },
        containers: { a: { ...webContainer(a), networkFrom: "n" }, b: { ...webContainer(b), networkFrom: "n" } },
      },
    });
    if (!stack) return;
    stack.up();
    const state = stateOf(stack, NETWORK, "n");
    assert.equal(state?.outputs?.name, net);
    assert.equal(state?.outputs?.driver, "bridge", "driver is computed: the engine's default driver is read back");
    assert.equal(state?.outputs?.ipamDriver, "default");
    assert.equal(state?.outputs?.scope, "local");
    assert.equal(
      state?.id,
      dockerCli(["network", "inspect", "--format", "{{.Id}}", net]).trim(),
      "the ID is the engine's network ID",
    );
    assert.equal(dockerCli(["container", "inspect", "--format", "{{.HostConfig.NetworkMode}}", a]).trim(), net);
    const lookup = spawnSync(
      "docker",
      [
        "exec",
        b,
        "/usr/bin/node",
        "-e",
        `require("dns").lookup(${JSON.stringify(a)}, (e, addr) => { if (e) { console.error(e.message); process.exit(1); } console.log(addr); })`,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(lookup.status, 0, `container ${b} resolves ${a} on the network: ${lookup.stderr}`);
    const ip = dockerCli([
      "container",
      "inspect",
      "--format",
      `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`,
      a,
    ]).trim();
    assert.equal(lookup.stdout.trim(), ip);
    assert.deepEqual(
      stack.changes().filter((c) => c.op !== "same"),
      [],
      "Read's values equal the program's: nothing to do",
    );
  });

  it("any input change replaces the network (every input is ForceNew, there is no Update)", (t) => {
    const net = networkName(t, "replace");
    const config = (value: string) => ({
      provider,
      networks: { n: { name: net, labels: [{ label: "sdwebui.test", value }], opts: { deleteBeforeReplace: true } } },
    });
    const stack = dockerStack(t, "dk-net-replace", { config: config("1") });
    if (!stack) return;
    stack.up();
    const before = stateOf(stack, NETWORK, "n")?.id;
    stack.setConfig(config("2"));
    assert.equal(changeOf(stack.changes(), "n")?.op, "replace");
    stack.up();
    const after = stateOf(stack, NETWORK, "n")?.id;
    assert.notEqual(after, before, "a new network");
    assert.equal(dockerCli(["network", "inspect", "--format", '{{index .Labels "sdwebui.test"}}', net]).trim(), "2");
  });

  it("a refresh after the network was removed by hand drops it; the next up creates it again", (t) => {
    const net = networkName(t, "gone");
    const stack = dockerStack(t, "dk-net-gone", { config: { provider, networks: { n: { name: net } } } });
    if (!stack) return;
    stack.up();
    dockerCli(["network", "rm", net]);
    stack.refresh();
    assert.equal(stateOf(stack, NETWORK, "n"), undefined, "Read drops a missing network");
    assert.equal(changeOf(stack.changes(), "n")?.op, "create");
    stack.up();
    assert.ok(networkExists(net));
  });

  it("destroy waits while a container outside the stack is still attached, and removes the network once it is gone", (t) => {
    const net = networkName(t, "busy");
    const squatter = containerName(t, "net-squatter");
    const stack = dockerStack(t, "dk-net-busy", { config: { provider, networks: { n: { name: net } } } });
    if (!stack) return;
    stack.up();
    dockerCli([
      "run",
      "-d",
      "--name",
      squatter,
      "--network",
      net,
      "--entrypoint",
      "/usr/bin/node",
      "sd-webui-standin:dev",
      "-e",
      "setInterval(() => {}, 1000)",
    ]);
    // The CLI runs synchronously here: the endpoint goes away from a process of its own, 7 s from now.
    const t0 = Date.now();
    const remover = spawn("sh", ["-c", `sleep 7; docker rm -f ${squatter} >/dev/null`], { stdio: "ignore" });
    t.after(() => remover.kill());
    stack.destroy();
    const waited = Date.now() - t0;
    t.diagnostic(`destroy took ${waited} ms with an endpoint removed after 7 s`);
    assert.ok(!networkExists(net), "the network is gone");
    assert.ok(waited >= 7_000, "the delete retried until the endpoint was gone");
  });
});
