// A Container's life outside the happy path, through the real engine: a start that fails after the
// create (initialization error, P7), refresh of a container removed or stopped by hand (P10), and the
// delete (stop with the grace period, then force-remove). Sources: kreuzwerker v4.5.0
// resource_docker_container_funcs.go; bridge v3.133.0 pkg/tfbridge/provider.go Create/Update/Read;
// engine v3.248.0 step_generator.go.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { output } from "../helpers/engine-stack.js";
import {
  CONTAINER,
  changeOf,
  containerName,
  dockerCli,
  dockerStack,
  IGNORES_SIGTERM,
  inspect,
  LOCAL_ENGINE,
  opsOf,
  planText,
  stateOf,
  webContainer,
} from "./docker-engine.js";

const provider = { host: LOCAL_ENGINE };
const gpu = [{ driver: "nvidia", count: -1, capabilities: ["gpu"] }];

/** The seconds between the engine's first kill event for a container (the stop's signal) and its death. */
function stopSeconds(name: string, since: number): number {
  const until = Math.ceil(Date.now() / 1000) + 1;
  const text = execFileSync(
    "docker",
    [
      "events",
      "--since",
      String(since),
      "--until",
      String(until),
      "--filter",
      `container=${name}`,
      "--format",
      "{{json .}}",
    ],
    { encoding: "utf8", timeout: 30_000 },
  );
  const events = text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Action: string; timeNano: number });
  const kill = events.find((e) => e.Action === "kill");
  const die = events.find((e) => e.Action === "die");
  assert.ok(kill && die, `kill and die events for ${name}: ${text}`);
  return (die.timeNano - kill.timeNano) / 1e9;
}

describe("Container lifecycle under the real engine", () => {
  it("a failed start leaves the container recorded with an init error; the next up is an update that does not start it (P7: _funcs.go:460 SetId before :584 ContainerStart; bridge provider.go:1375,1413; step_generator.go:2053)", (t) => {
    const name = containerName(t, "initerr");
    const stack = dockerStack(t, "dk-initerr", {
      config: { provider, containers: { c: webContainer(name, { deviceRequests: gpu }) } },
    });
    if (!stack) return;
    const first = stack.fails(["up", "--yes", "--skip-preview"]);
    assert.match(
      output(first),
      /Unable to start container: Error response from daemon: could not select device driver "nvidia" with capabilities: \[\[gpu\]\]/,
    );
    const recorded = stateOf(stack, CONTAINER, "c");
    assert.ok(recorded, "the container is in the state");
    assert.equal(recorded.id, inspect(name)?.Id, "with the ID of the container the engine created");
    assert.equal(inspect(name)?.State.Status, "created");
    assert.equal(recorded.initErrors?.length, 1, JSON.stringify(recorded.initErrors));
    assert.match(recorded.initErrors![0]!, /Unable to start container/);

    const plan = stack.changes();
    assert.deepEqual(opsOf(plan, "c"), ["update"], `an empty update for the init error: ${planText(plan)}`);
    assert.deepEqual(changeOf(plan, "c")?.diffs, [], "no attribute differs");
    stack.up();
    assert.equal(inspect(name)?.State.Status, "created", "the update starts nothing");
    assert.equal(
      stateOf(stack, CONTAINER, "c")?.initErrors,
      undefined,
      "and clears the init error: the next run is green",
    );
    assert.deepEqual(stack.changes(), []);
  });

  it('refresh drops a container removed by hand; the next plan creates it (Read _funcs.go:765-772 SetId(""))', (t) => {
    const name = containerName(t, "removed");
    const stack = dockerStack(t, "dk-removed", { config: { provider, containers: { c: webContainer(name) } } });
    if (!stack) return;
    stack.up();
    dockerCli(["rm", "-f", name]);
    stack.refresh();
    assert.equal(stateOf(stack, CONTAINER, "c"), undefined, "dropped from the state");
    assert.deepEqual(opsOf(stack.changes(), "c"), ["create"]);
  });

  it('a destroy of a container removed by hand (no refresh) fails at the stop: only the remove and the wait ignore "No such container" (resourceDockerContainerDelete)', (t) => {
    const name = containerName(t, "gone");
    const stack = dockerStack(t, "dk-gone", { config: { provider, containers: { c: webContainer(name) } } });
    if (!stack) return;
    stack.up();
    const id = inspect(name)!.Id;
    dockerCli(["rm", "-f", name]);
    const r = stack.fails(["destroy", "--yes", "--skip-preview"]);
    assert.match(
      output(r),
      new RegExp(`Error stopping container ${id}: Error response from daemon: No such container: ${id}`),
    );
    stack.refresh();
    stack.destroy();
  });

  it("refresh of a container stopped by hand stores mustRun=false, exitCode and ports []; the next plan replaces on ports (P10: Read _funcs.go:797-825)", (t) => {
    const name = containerName(t, "stopped");
    const ports = [{ internal: 8080, external: 18433, ip: "127.0.0.1", protocol: "tcp" }];
    const stack = dockerStack(t, "dk-stopped", {
      config: { provider, containers: { c: webContainer(name, { ports }) } },
    });
    if (!stack) return;
    stack.up();
    assert.deepEqual(
      stateOf(stack, CONTAINER, "c")?.outputs?.ports,
      ports,
      "a running container's ports are read from NetworkSettings",
    );
    dockerCli(["stop", name]);
    const exit = inspect(name)!.State.ExitCode;
    stack.refresh();
    const outs = stateOf(stack, CONTAINER, "c")?.outputs;
    assert.equal(outs?.mustRun, false);
    assert.equal(outs?.exitCode, exit);
    assert.deepEqual(outs?.ports, []);
    const plan = stack.changes();
    assert.ok(opsOf(plan, "c").includes("replace"), planText(plan));
    assert.deepEqual(changeOf(plan, "c")?.replaces, ["ports"]);
    assert.deepEqual(changeOf(plan, "c")?.diffs.sort(), ["mustRun", "ports"]);
  });

  it("without ports the same refresh plans an update of mustRun, and the update starts the container (Update _funcs.go:996-1011)", (t) => {
    const name = containerName(t, "restart");
    const stack = dockerStack(t, "dk-mustrun", { config: { provider, containers: { c: webContainer(name) } } });
    if (!stack) return;
    stack.up();
    const id = inspect(name)!.Id;
    dockerCli(["stop", name]);
    stack.refresh();
    const plan = stack.changes();
    assert.deepEqual(opsOf(plan, "c"), ["update"], planText(plan));
    assert.deepEqual(changeOf(plan, "c")?.diffs, ["mustRun"]);
    stack.up();
    const live = inspect(name)!;
    assert.equal(live.Id, id);
    assert.equal(live.State.Status, "running");
  });

  it("delete stops with destroyGraceSeconds (a PID 1 that ignores SIGTERM dies after ≈ the grace), 0 kills at once, then removes (_funcs.go:1079-1131)", (t) => {
    const slow = containerName(t, "grace-5");
    const fast = containerName(t, "grace-0");
    const containers = {
      slow: webContainer(slow, { entrypoints: IGNORES_SIGTERM, destroyGraceSeconds: 5 }),
      fast: webContainer(fast, { entrypoints: IGNORES_SIGTERM }),
    };
    const stack = dockerStack(t, "dk-grace", { config: { provider, containers } });
    if (!stack) return;
    stack.up();
    const since = Math.floor(Date.now() / 1000) - 1;
    stack.destroy();
    assert.equal(inspect(slow), undefined, "removed");
    assert.equal(inspect(fast), undefined, "removed");
    const s = stopSeconds(slow, since);
    const f = stopSeconds(fast, since);
    t.diagnostic(`kill-to-death: grace 5 -> ${s.toFixed(2)} s, grace 0 -> ${f.toFixed(2)} s`);
    assert.ok(s >= 4.5 && s < 9, `grace 5: SIGTERM ignored, SIGKILL after the grace (${s.toFixed(2)} s)`);
    assert.ok(f < 1.5, `no grace: killed at once (${f.toFixed(2)} s)`);
  });
});
