// The smoke's rollout wait against an API that answers as the API server does (Deployment and pod
// objects as Kubernetes writes them). The real API server answers it in test/cluster/fleet.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SMOKE_EXIT, SmokeError } from "../../smoke/errors.js";
import { unschedulable, waitForRollout } from "../../smoke/rollout.js";
import type { ApiGet } from "../../smoke/rollout.js";

const target = { namespace: "ml", deployment: "sdwebui-prod", gpuResource: "nvidia.com/gpu" };
const deployment = (replicas: number, available: number) => ({
  metadata: { generation: 2 },
  spec: { replicas, selector: { matchLabels: { "app.kubernetes.io/instance": "sdwebui-prod" } } },
  status: { observedGeneration: 2, replicas, updatedReplicas: replicas, availableReplicas: available },
});
const pending = (name: string, message: string) => ({
  metadata: { name },
  status: {
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }],
  },
});
const running = (name: string) => ({
  metadata: { name },
  status: { phase: "Running", conditions: [{ type: "PodScheduled", status: "True" }] },
});

function api(answers: { deployment: unknown; pods: unknown }[]): { get: ApiGet; paths: string[] } {
  const paths: string[] = [];
  let n = 0;
  const get: ApiGet = async <T>(path: string) => {
    paths.push(path);
    const a = answers[Math.min(Math.floor(n++ / 2), answers.length - 1)]!;
    return (path.includes("/deployments/") ? a.deployment : a.pods) as T;
  };
  return { get, paths };
}

describe("the rollout wait (Kubernetes)", () => {
  it("returns once every replica is updated and available, reading the Deployment and its pods by selector", async () => {
    const { get, paths } = api([
      { deployment: deployment(2, 1), pods: { items: [running("a")] } },
      { deployment: deployment(2, 2), pods: { items: [running("a"), running("b")] } },
    ]);
    const lines: string[] = [];
    await waitForRollout(get, target, Date.now() + 10_000, (l) => lines.push(l), 1);
    assert.equal(paths[0], "/apis/apps/v1/namespaces/ml/deployments/sdwebui-prod");
    assert.equal(paths[1], "/api/v1/namespaces/ml/pods?labelSelector=app.kubernetes.io%2Finstance%3Dsdwebui-prod");
    assert.match(lines[0]!, /1 of 2 available; \d+s elapsed of 10s limit/);
  });

  it("fails with gpus-short and the scheduler's message once a pod has waited for GPUs past the settle time", async () => {
    const msg = "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available";
    const { get } = api([
      { deployment: deployment(3, 2), pods: { items: [running("a"), running("b"), pending("c", msg)] } },
    ]);
    const t0 = Date.now();
    const err = await waitForRollout(get, target, Date.now() + 60_000, () => {}, 1, 50).catch((e: unknown) => e);
    assert.ok(err instanceof SmokeError);
    assert.equal(err.failure, "gpus-short");
    assert.equal(err.exitCode, SMOKE_EXIT["gpus-short"]);
    assert.match(err.message, /fewer free nvidia\.com\/gpu than replicas × gpusPerPod/);
    assert.deepEqual(err.details, [`c: ${msg}`]);
    assert.ok(Date.now() - t0 < 1000, "no wait for the limit");
  });

  it("another scheduling reason is unschedulable, with the message", () => {
    const err = unschedulable(
      { items: [pending("c", "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.")] },
      target,
    );
    assert.equal(err?.failure, "unschedulable");
    assert.match(err!.details[0]!, /node affinity\/selector/);
    assert.equal(
      unschedulable({ items: [running("a"), { metadata: { name: "p" }, status: { phase: "Pending" } }] }, target),
      undefined,
      "pending but not yet judged",
    );
  });

  it("a rolling update's new pod waiting for the GPU a terminating pod still holds is no shortage", () => {
    const terminating = { ...running("old"), metadata: { name: "old", deletionTimestamp: "2026-12-02T08:00:00Z" } };
    const pods = {
      items: [running("a"), terminating, pending("new", "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.")],
    };
    assert.equal(unschedulable(pods, target), undefined);
    assert.equal(
      unschedulable({ items: [running("a"), pods.items[2]!] }, target)?.failure,
      "gpus-short",
      "once it is gone, the shortage is real",
    );
  });

  it("at the limit: rollout-timeout with the counts", async () => {
    const { get } = api([{ deployment: deployment(2, 1), pods: { items: [running("a")] } }]);
    const err = await waitForRollout(get, target, Date.now() + 30, () => {}, 5).catch((e: unknown) => e);
    assert.ok(err instanceof SmokeError);
    assert.equal(err.failure, "rollout-timeout");
    assert.match(err.message, /1 of 2 pods available/);
  });
});
