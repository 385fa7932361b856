// How the docker plugin diffs a Container: against the state its Read stored after create (not the
// last inputs), which fields replace (ForceNew, delete-before-replace) and which update in place, and
// which of the in-place ones the live container actually gets. Sources: kreuzwerker v4.5.0
// resource_docker_container{,_funcs}.go, bridge v3.133.0 pkg/tfbridge/provider.go Diff.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { output } from "../helpers/engine-stack.js";
import {
  CONTAINER,
  changeOf,
  containerName,
  dockerStack,
  IGNORES_SIGTERM,
  imageWithCmd,
  inspect,
  LOCAL_ENGINE,
  opsOf,
  planText,
  stateOf,
  webContainer,
} from "./docker-engine.js";

const provider = { host: LOCAL_ENGINE };
const healthcheck = (startPeriod: string, interval = "30s") => ({
  tests: ["CMD", "/usr/bin/node", "-e", "process.exit(0)"],
  interval,
  timeout: "15s",
  startPeriod,
  retries: 3,
});

describe("Container diff against the read-back state", () => {
  it('healthcheck startPeriod "600s" is stored as "10m0s" (Read: Duration.String(), _funcs.go:961-970), so the next plan differs; "10m0s" does not (P3)', (t) => {
    const name = containerName(t, "hc-normal");
    const spec = (startPeriod: string, opts?: object) => ({
      provider,
      containers: { c: webContainer(name, { healthcheck: healthcheck(startPeriod), ...(opts ? { opts } : {}) }) },
    });
    const stack = dockerStack(t, "dk-hc-normal", { config: spec("600s") });
    if (!stack) return;
    stack.up();
    const state = stateOf(stack, CONTAINER, "c");
    assert.deepEqual(
      state?.outputs?.healthcheck,
      { ...healthcheck("10m0s"), startInterval: "0s" },
      "Read stores the engine's durations in Go form",
    );
    assert.equal(
      (state?.inputs?.healthcheck as Record<string, unknown>).startPeriod,
      "600s",
      "the inputs keep what the program gave",
    );

    const plan = stack.changes();
    const c = changeOf(plan, "c");
    assert.equal(
      c?.op,
      "update",
      `healthcheck is not ForceNew at v4.5.0 (resource_docker_container.go healthcheck): ${planText(plan)}`,
    );
    assert.deepEqual(c?.diffs, ["healthcheck"]);
    assert.equal(c?.detailedDiff["healthcheck.startPeriod"]?.kind, "update");

    stack.setConfig(spec("600s", { replaceOnChanges: ["healthcheck"] }));
    const replacing = stack.changes();
    assert.ok(
      opsOf(replacing, "c").includes("replace"),
      `the program's replaceOnChanges makes the same diff a replace: ${planText(replacing)}`,
    );

    stack.setConfig(spec("10m0s", { replaceOnChanges: ["healthcheck"] }));
    assert.deepEqual(stack.changes(), [], "the Go spelling of the same duration is no change");
  });

  it("ports, envs and image replace with delete-before-replace (ForceNew; pulumi-docker resources.go DeleteBeforeReplace); the fixed name would make create-before-delete fail", (t) => {
    const name = containerName(t, "forcenew");
    const derived = imageWithCmd(t, "forcenew", ["--api"]);
    const spec = (over: Record<string, unknown>) => ({
      provider,
      containers: {
        c: webContainer(name, {
          envs: ["A=1"],
          ports: [{ internal: 8080, external: 18431, ip: "127.0.0.1" }],
          ...over,
        }),
      },
    });
    const stack = dockerStack(t, "dk-forcenew", { config: spec({}) });
    if (!stack) return;
    stack.up();
    let id = inspect(name)!.Id;
    for (const [what, over] of [
      ["ports", { ports: [{ internal: 8080, external: 18432, ip: "127.0.0.1" }] }],
      ["envs", { envs: ["A=2"], ports: [{ internal: 8080, external: 18432, ip: "127.0.0.1" }] }],
      ["image", { image: derived, envs: ["A=2"], ports: [{ internal: 8080, external: 18432, ip: "127.0.0.1" }] }],
    ] as const) {
      stack.setConfig(spec(over));
      const plan = stack.changes();
      assert.deepEqual(opsOf(plan, "c"), ["replace"], `${what}: ${planText(plan)}`);
      assert.deepEqual(changeOf(plan, "c")?.replaces, [what], `${what} is the key that forces it`);
      // The program sets no deleteBeforeReplace: the order comes from the provider's DiffResponse.
      const text = output(stack.up());
      const deleting = text.indexOf("deleting original");
      const creating = text.indexOf("creating replacement");
      assert.ok(deleting >= 0 && creating > deleting, `${what}: the old container goes first:\n${text}`);
      const now = inspect(name)!;
      assert.notEqual(now.Id, id, `${what}: a new container`);
      id = now.Id;
    }
    assert.equal(inspect(name)!.State.Status, "running");
    assert.equal(
      stateOf(stack, CONTAINER, "c")?.outputs?.image,
      derived,
      "image is stored as given (a name, not the ID the engine reports)",
    );
  });

  it("restart updates in place and reaches the live container (ContainerUpdate, _funcs.go:991-1076); a healthcheck change is state-only", (t) => {
    const name = containerName(t, "inplace");
    const spec = (restart: string, interval: string) => ({
      provider,
      containers: { c: webContainer(name, { restart, healthcheck: healthcheck("10m0s", interval) }) },
    });
    const stack = dockerStack(t, "dk-inplace", { config: spec("no", "30s") });
    if (!stack) return;
    stack.up();
    const id = inspect(name)!.Id;

    stack.setConfig(spec("unless-stopped", "30s"));
    const plan = stack.changes();
    assert.deepEqual(opsOf(plan, "c"), ["update"], planText(plan));
    assert.deepEqual(changeOf(plan, "c")?.diffs, ["restart"]);
    stack.up();
    let live = inspect(name)!;
    assert.equal(live.Id, id, "the same container");
    assert.equal(live.HostConfig.RestartPolicy.Name, "unless-stopped", "the engine has the new policy");

    stack.setConfig(spec("unless-stopped", "45s"));
    assert.deepEqual(opsOf(stack.changes(), "c"), ["update"]);
    stack.up();
    live = inspect(name)!;
    assert.equal(live.Id, id);
    assert.equal(
      live.Config.Healthcheck?.Interval,
      30e9,
      "the engine keeps the old healthcheck: Update never applies it",
    );
    assert.equal(
      (stateOf(stack, CONTAINER, "c")?.outputs?.healthcheck as Record<string, unknown>).interval,
      "45s",
      "the state records the new one",
    );
    assert.deepEqual(stack.changes(), [], "and no diff remains, so nothing will ever apply it");
  });

  it("envs and labels are sets (reordering is no change); command is a list (reordering replaces) (resource_docker_container.go env/labels TypeSet, command TypeList)", (t) => {
    const name = containerName(t, "sets");
    const labels = [
      { label: "a", value: "1" },
      { label: "b", value: "2" },
    ];
    const spec = (envs: string[], l: typeof labels, command: string[]) => ({
      provider,
      containers: { c: webContainer(name, { envs, labels: l, command }) },
    });
    const stack = dockerStack(t, "dk-sets", { config: spec(["A=1", "B=2"], labels, ["--api", "--nowebui"]) });
    if (!stack) return;
    stack.up();
    stack.setConfig(spec(["B=2", "A=1"], [...labels].reverse(), ["--api", "--nowebui"]));
    assert.deepEqual(stack.changes(), [], "reordered envs and labels: no diff");

    stack.setConfig(spec(["B=2", "A=1"], [...labels].reverse(), ["--nowebui", "--api"]));
    const plan = stack.changes();
    assert.ok(opsOf(plan, "c").includes("replace"), planText(plan));
    assert.deepEqual(changeOf(plan, "c")?.replaces, ["command"]);
  });

  it("command: [] against an image CMD: Read stores the CMD, and the explicit empty list differs from it on every run (P8); no command is no change (Optional+Computed)", (t) => {
    const name = containerName(t, "cmd-empty");
    const image = imageWithCmd(t, "cmd", ["--api", "--nowebui"]);
    const spec = (extra: Record<string, unknown>) => ({ provider, containers: { c: { image, name, ...extra } } });
    const stack = dockerStack(t, "dk-cmd-empty", { config: spec({ command: [] }) });
    if (!stack) return;
    stack.up();
    assert.deepEqual(
      inspect(name)!.Config.Cmd,
      ["--api", "--nowebui"],
      "the create sent no Cmd (GetOk is false for [])",
    );
    assert.deepEqual(
      stateOf(stack, CONTAINER, "c")?.outputs?.command,
      ["--api", "--nowebui"],
      "Read stores the image CMD (_funcs.go:849)",
    );
    const plan = stack.changes();
    assert.ok(opsOf(plan, "c").includes("replace"), `[] differs from the stored CMD: ${planText(plan)}`);
    assert.deepEqual(changeOf(plan, "c")?.replaces, ["command"]);

    stack.setConfig(spec({}));
    assert.deepEqual(stack.changes(), [], "an absent command keeps the stored one");
  });

  it("working_dir is stored as the engine cleaned it, and a non-clean spelling replaces on every run (P13; moby translateWorkingDir, Read _funcs.go:869)", (t) => {
    const name = containerName(t, "workdir");
    const spec = (workingDir: string) => ({
      provider,
      containers: { c: webContainer(name, { workingDir, entrypoints: IGNORES_SIGTERM }) },
    });
    const stack = dockerStack(t, "dk-workdir", { config: spec("/tmp//x/") });
    if (!stack) return;
    stack.up();
    assert.equal(stateOf(stack, CONTAINER, "c")?.outputs?.workingDir, "/tmp/x");
    assert.deepEqual(changeOf(stack.changes(), "c")?.replaces, ["workingDir"]);
    stack.setConfig(spec("/tmp/x"));
    assert.deepEqual(stack.changes(), []);
  });
});
