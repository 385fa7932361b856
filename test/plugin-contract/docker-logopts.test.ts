// P9: an engine whose daemon.json sets default log-opts merges them into every container of the default
// driver (moby daemon/logs.go mergeAndVerifyLogConfig); Read stores the merged map (kreuzwerker v4.5.0
// _funcs.go:952,983-989) and logOpts is ForceNew, so a program that sets logOpts is replaced on every run,
// unless it ignores logOpts: the bridge drops attribute diffs under ignored paths (v3.133.0
// pkg/tfbridge/diff.go computeIgnoreChanges, tfshim/sdk-v2 processIgnoreChanges), although the state
// keeps the merged map. The engine here is a test host's own dockerd, reached at its unix socket.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { requireRemoteHost, startRemoteHost } from "../helpers/remote-host.js";
import { STANDIN_IMAGE } from "../helpers/standin.js";
import {
  CONTAINER,
  changeOf,
  containerName,
  dockerStack,
  inspect,
  opsOf,
  planText,
  requireDockerPlugin,
  stateOf,
  webContainer,
} from "./docker-engine.js";

const logOpts = { "max-size": "5m", "max-file": "2" };

describe("Container logOpts on an engine with default log-opts (P9)", () => {
  it('the merged map is stored; a set logOpts replaces every run, and ignoreChanges ["logOpts"] removes that diff', async (t) => {
    if (!requireDockerPlugin(t) || !requireRemoteHost(t)) return;
    const host = await startRemoteHost({
      daemonJson: { "log-opts": { "max-size": "10m", labels: "sdwebui" } },
      images: [STANDIN_IMAGE],
    });
    t.after(() => host.stop());
    const engine = ["-H", `unix://${host.dockerSocket}`];
    const name = containerName(t, "logopts", engine);
    const spec = (opts?: object) => ({
      provider: { host: `unix://${host.dockerSocket}` },
      containers: { c: webContainer(name, { logDriver: "json-file", logOpts, ...(opts ? { opts } : {}) }) },
    });
    const stack = dockerStack(t, "dk-logopts", { config: spec() });
    if (!stack) return;
    stack.up();
    const merged = { ...logOpts, labels: "sdwebui" };
    assert.deepEqual(inspect(name, engine)?.HostConfig.LogConfig.Config, merged, "the daemon merged its default");
    assert.deepEqual(stateOf(stack, CONTAINER, "c")?.outputs?.logOpts, merged, "Read stores what the daemon merged");

    const plan = stack.changes();
    assert.ok(opsOf(plan, "c").includes("replace"), planText(plan));
    assert.deepEqual(changeOf(plan, "c")?.replaces, ["logOpts"]);
    assert.equal(
      changeOf(plan, "c")?.detailedDiff["logOpts.labels"]?.kind,
      "delete-replace",
      `the extra key the config lacks: ${planText(plan)}`,
    );

    stack.setConfig(spec({ ignoreChanges: ["logOpts"] }));
    assert.deepEqual(stack.changes(), [], "ignored: no diff although the state holds the merged map");
  });
});
