// On Kubernetes, before the proof: wait until the WebUI Deployment has every replica updated and
// available, reading the API with the Job's service account. A pod the scheduler cannot place fails the
// smoke within 15 s with the scheduler's reason: short of GPUs (`gpus-short`, the GPU resource named in the
// message) or another reason (`unschedulable`), instead of waiting for the limit with no word.
import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import { SmokeError } from "./errors.js";

/** Where Kubernetes mounts a pod's service account credentials. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface RolloutTarget {
  namespace: string;
  deployment: string;
  gpuResource: string;
}

interface Deployment {
  metadata: { generation?: number };
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> } };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
}
interface PodList {
  items: {
    metadata: { name: string; deletionTimestamp?: string };
    status: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
  }[];
}

export type ApiGet = <T>(path: string) => Promise<T>;

export type ApiRequest = (
  method: "GET" | "POST",
  path: string,
  body?: unknown,
) => Promise<{ status: number; json: unknown }>;

/** A request to the API server from inside a pod: its address from the environment, the token and CA mounted. */
export function inClusterRequest(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): ApiRequest {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) throw new SmokeError("usage", "this step must run in a pod: KUBERNETES_SERVICE_HOST is not set");
  let token: string;
  let ca: string;
  try {
    token = readFileSync(`${dir}/token`, "utf8").trim();
    ca = readFileSync(`${dir}/ca.crt`, "utf8");
  } catch {
    throw new SmokeError(
      "usage",
      `this step needs the pod's service account token in ${dir} (automountServiceAccountToken)`,
    );
  }
  const dispatcher = new Agent({ connect: { ca } });
  const base = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return async (method, path, body) => {
    const r = await request(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher,
    });
    const text = await r.body.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: kept as text for the message
    }
    return { status: r.statusCode, json };
  };
}

/** GET against the API server from inside a pod; anything but 200 is an error naming the path. */
export function inClusterApi(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): ApiGet {
  const call = inClusterRequest(env, dir);
  return async <T>(path: string): Promise<T> => {
    const r = await call("GET", path);
    if (r.status !== 200)
      throw new SmokeError(
        "unreachable",
        `the Kubernetes API answered ${r.status} to GET ${path}: ${JSON.stringify(r.json).slice(0, 300)}`,
      );
    return r.json as T;
  };
}

/**
 * The scheduler's verdict on pods it could not place, as a SmokeError; undefined when every pod is placed, or
 * while a pod is still terminating: in a rolling update the new pod waits for the GPU the old one holds until
 * it is gone, and that is no shortage.
 */
export function unschedulable(pods: PodList, target: RolloutTarget): SmokeError | undefined {
  if (pods.items.some((p) => p.metadata.deletionTimestamp)) return undefined;
  const stuck = pods.items
    .filter((p) => p.status.phase === "Pending")
    .map((p) => ({
      name: p.metadata.name,
      c: p.status.conditions?.find(
        (c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable",
      ),
    }))
    .filter((p) => p.c);
  if (stuck.length === 0) return undefined;
  const reasons = stuck.map((p) => `${p.name}: ${p.c!.message ?? "no message"}`);
  if (stuck.some((p) => p.c!.message?.includes(`Insufficient ${target.gpuResource}`)))
    return new SmokeError(
      "gpus-short",
      `${stuck.length} pod(s) of ${target.deployment} cannot be scheduled: the cluster has fewer free ${target.gpuResource} than replicas × gpusPerPod. Lower replicas, or add GPU nodes`,
      reasons,
    );
  return new SmokeError(
    "unschedulable",
    `${stuck.length} pod(s) of ${target.deployment} cannot be scheduled (the scheduler's reason follows): check nodeSelector, tolerations, runtimeClassName and the claims`,
    reasons,
  );
}

/**
 * Polls until every replica is updated and available. A pod the scheduler cannot place fails the wait once it
 * has stayed so for `settleMs` with nothing terminating (the scheduler retries a pod only after something
 * frees room, so a verdict just older than a deletion is stale); anything else fails at `deadline`.
 */
export async function waitForRollout(
  get: ApiGet,
  target: RolloutTarget,
  deadline: number,
  log: (line: string) => void,
  pollMs = 2000,
  settleMs = 15_000,
): Promise<void> {
  const start = Date.now();
  let stuckSince: number | undefined;
  const path = `/apis/apps/v1/namespaces/${encodeURIComponent(target.namespace)}/deployments/${encodeURIComponent(target.deployment)}`;
  let lastSaid = 0;
  for (;;) {
    const d = await get<Deployment>(path);
    const selector = Object.entries(d.spec.selector.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const pods = await get<PodList>(
      `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods?labelSelector=${encodeURIComponent(selector)}`,
    );
    const stuck = unschedulable(pods, target);
    stuckSince = stuck ? (stuckSince ?? Date.now()) : undefined;
    if (stuck && Date.now() - stuckSince! >= settleMs) throw stuck;
    const want = d.spec.replicas ?? 1;
    const s = d.status ?? {};
    const done =
      (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
      s.updatedReplicas === want &&
      s.availableReplicas === want &&
      s.replicas === want;
    if (done) return;
    const elapsed = Math.round((Date.now() - start) / 1000);
    if (Date.now() >= deadline)
      throw new SmokeError(
        "rollout-timeout",
        `${target.deployment}: ${s.availableReplicas ?? 0} of ${want} pods available after ${elapsed} s; see kubectl -n ${target.namespace} describe pods -l ${selector}`,
      );
    if (Date.now() - lastSaid >= 10_000) {
      log(
        `waiting for the rollout of ${target.deployment}: ${s.updatedReplicas ?? 0} updated, ${s.availableReplicas ?? 0} of ${want} available; ${elapsed}s elapsed of ${Math.round((deadline - start) / 1000)}s limit`,
      );
      lastSaid = Date.now();
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
