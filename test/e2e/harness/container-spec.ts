// docker.Container inputs (as the program registered them, secrets unwrapped) -> the Docker Engine API
// request that `docker create` would send (POST /containers/create). The Engine API, not the docker
// CLI, because the CLI cannot express an exec-form healthcheck (["CMD", ...]) or an entrypoint array,
// and the terraform provider behind @pulumi/docker talks to the API too. Pure: no engine needed.
// Every input must be listed below; an input the harness does not know FAILS, so that a new program
// input cannot be silently left out of the end-to-end test.

/** Inputs whose change forces a replacement (pulumi-docker 5.2.0 schema `willReplaceOnChanges`). */
export const CONTAINER_REPLACE_KEYS = new Set([
  "capabilities", "cgroupParent", "cgroupnsMode", "command", "cpus", "deviceRequests", "devices", "dns", "dnsOpts", "dnsSearches",
  "domainname", "entrypoints", "envs", "gpus", "groupAdds", "hostname", "hosts", "image", "ipcMode", "labels", "logDriver",
  "logOpts", "mounts", "name", "networkMode", "networksAdvanced", "pidMode", "platform", "ports", "privileged",
  "publishAllPorts", "readOnly", "runtime", "securityOpts", "shmSize", "stdinOpen", "stopSignal", "stopTimeout", "storageOpts",
  "sysctls", "tty", "ulimits", "uploads", "user", "usernsMode", "volumes", "workingDir", "deviceCgroupRules",
]);
/** Inputs changed in place; only APPLIED_UPDATE_KEYS reach the running container (the rest is state only). */
export const CONTAINER_UPDATE_KEYS = new Set([
  "attach", "containerReadRefreshTimeoutMilliseconds", "cpuPeriod", "cpuQuota", "cpuSet", "cpuShares", "destroyGraceSeconds",
  "healthcheck", "init", "logs", "maxRetryCount", "memory", "memoryReservation", "memorySwap", "mustRun", "removeVolumes",
  "restart", "rm", "start", "tmpfs", "wait", "waitTimeout",
]);
export const APPLIED_UPDATE_KEYS = new Set(["restart", "maxRetryCount", "cpuShares", "memory", "memoryReservation", "cpuSet", "memorySwap", "mustRun"]);

type Obj = Record<string, unknown>;
export class HarnessInputError extends Error {}

const MB = 1024 * 1024;
const str = (v: unknown, key: string): string => {
  if (typeof v !== "string") throw new HarnessInputError(`docker.Container input ${key}: expected a string, got ${typeof v}`);
  return v;
};
const strs = (v: unknown, key: string): string[] => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new HarnessInputError(`docker.Container input ${key}: expected a list of strings`);
  return v as string[];
};
const num = (v: unknown, key: string): number => {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new HarnessInputError(`docker.Container input ${key}: expected a number`);
  return v;
};
function only(o: unknown, key: string, allowed: string[]): Obj {
  if (!o || typeof o !== "object" || Array.isArray(o)) throw new HarnessInputError(`docker.Container input ${key}: expected an object`);
  const extra = Object.keys(o).filter((k) => !allowed.includes(k) && (o as Obj)[k] !== undefined);
  if (extra.length) throw new HarnessInputError(`docker.Container input ${key}: the e2e harness does not model ${extra.map((k) => `${key}.${k}`).join(", ")}; extend test/e2e/harness/container-spec.ts`);
  return o as Obj;
}

/** Go duration ("30s", "1m30s", "500ms") -> nanoseconds, as the provider parses healthcheck times. */
export function goDurationNs(v: string, key: string): number {
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  if (v === "0") return 0;
  while (i < v.length) {
    re.lastIndex = i;
    const m = re.exec(v);
    if (!m) throw new HarnessInputError(`docker.Container input ${key}: "${v}" is not a Go duration like 30s or 1m30s`);
    total += parseFloat(m[1]!) * unit[m[2]!]!;
    i = re.lastIndex;
  }
  return Math.round(total);
}

export interface ContainerCreate {
  name: string;
  body: Obj;
  /** Harness behaviour taken from provider-only inputs. */
  start: boolean;
  wait: boolean;
  waitTimeoutS: number;
  destroyGraceS: number;
  removeVolumes: boolean;
  /** Inputs that have no engine effect, with why (shown in the step log). */
  notes: string[];
}

export interface SpecOptions {
  /** What to do with GPU requests on a machine without GPUs: refuse (default) or drop with a note. */
  gpu?: "refuse" | "skip";
}

/** Build the create request. Throws HarnessInputError on any input the harness does not model. */
export function containerCreate(inputs: Obj, opts: SpecOptions = {}): ContainerCreate {
  const body: Obj = {};
  const host: Obj = {};
  const notes: string[] = [];
  const out: ContainerCreate = { name: "", body, start: true, wait: false, waitTimeoutS: 60, destroyGraceS: 0, removeVolumes: true, notes };
  for (const [key, v] of Object.entries(inputs)) {
    if (v === undefined || v === null) continue;
    switch (key) {
      case "name": out.name = str(v, key); break;
      case "image": body.Image = str(v, key); break;
      // Empty lists are "not set" for the provider (GetOk), so the image's own CMD/ENTRYPOINT stay.
      case "command": if (strs(v, key).length) body.Cmd = v; break;
      case "entrypoints": if (strs(v, key).length) body.Entrypoint = v; break;
      case "envs": if (strs(v, key).length) body.Env = v; break;
      case "user": body.User = str(v, key); break;
      case "workingDir": body.WorkingDir = str(v, key); break;
      case "hostname": body.Hostname = str(v, key); break;
      case "domainname": body.Domainname = str(v, key); break;
      case "tty": body.Tty = Boolean(v); break;
      case "stdinOpen": body.OpenStdin = Boolean(v); break;
      case "stopSignal": body.StopSignal = str(v, key); break;
      case "stopTimeout": body.StopTimeout = num(v, key); break;
      case "labels": {
        const labels: Record<string, string> = {};
        for (const l of v as unknown[]) { const o = only(l, key, ["label", "value"]); labels[str(o.label, "labels.label")] = str(o.value, "labels.value"); }
        body.Labels = labels;
        break;
      }
      case "ports": {
        const exposed: Obj = {};
        const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
        for (const p of v as unknown[]) {
          const o = only(p, key, ["internal", "external", "ip", "protocol"]);
          const k = `${num(o.internal, "ports.internal")}/${o.protocol === undefined ? "tcp" : str(o.protocol, "ports.protocol")}`;
          exposed[k] = {};
          (bindings[k] ??= []).push({ HostIp: o.ip === undefined ? "0.0.0.0" : str(o.ip, "ports.ip"), HostPort: o.external === undefined ? "" : String(num(o.external, "ports.external")) });
        }
        body.ExposedPorts = exposed;
        host.PortBindings = bindings;
        break;
      }
      case "mounts":
        host.Mounts = (v as unknown[]).map((m) => {
          const o = only(m, key, ["type", "source", "target", "readOnly", "bindOptions", "volumeOptions", "tmpfsOptions"]);
          const mount: Obj = { Type: str(o.type, "mounts.type"), Target: str(o.target, "mounts.target"), ReadOnly: Boolean(o.readOnly) };
          if (o.source !== undefined) mount.Source = str(o.source, "mounts.source");
          if (o.bindOptions !== undefined) mount.BindOptions = { Propagation: only(o.bindOptions, "mounts.bindOptions", ["propagation"]).propagation };
          if (o.volumeOptions !== undefined) {
            const vo = only(o.volumeOptions, "mounts.volumeOptions", ["noCopy", "driverName", "driverOptions", "labels"]);
            mount.VolumeOptions = { NoCopy: Boolean(vo.noCopy), ...(vo.driverName ? { DriverConfig: { Name: vo.driverName, Options: vo.driverOptions ?? {} } } : {}) };
            if (vo.labels !== undefined) throw new HarnessInputError("docker.Container input mounts.volumeOptions.labels: not modelled by the e2e harness");
          }
          if (o.tmpfsOptions !== undefined) {
            const to = only(o.tmpfsOptions, "mounts.tmpfsOptions", ["sizeBytes", "mode"]);
            mount.TmpfsOptions = { SizeBytes: to.sizeBytes, Mode: to.mode };
          }
          return mount;
        });
        break;
      case "volumes":
        host.Binds = (v as unknown[]).map((x) => {
          const o = only(x, key, ["hostPath", "volumeName", "containerPath", "readOnly"]);
          const src = o.hostPath ?? o.volumeName;
          if (src === undefined) throw new HarnessInputError("docker.Container input volumes: hostPath or volumeName is required by the e2e harness");
          return `${str(src, "volumes.source")}:${str(o.containerPath, "volumes.containerPath")}${o.readOnly ? ":ro" : ""}`;
        });
        break;
      case "restart": host.RestartPolicy = { ...(host.RestartPolicy as Obj), Name: str(v, key) }; break;
      case "maxRetryCount": host.RestartPolicy = { ...(host.RestartPolicy as Obj), MaximumRetryCount: num(v, key) }; break;
      case "healthcheck": {
        const o = only(v, key, ["tests", "interval", "timeout", "startPeriod", "startInterval", "retries"]);
        const d = (x: unknown, k: string) => (x === undefined ? 0 : goDurationNs(str(x, k), k));
        body.Healthcheck = {
          Test: strs(o.tests ?? [], "healthcheck.tests"), Interval: d(o.interval, "healthcheck.interval"), Timeout: d(o.timeout, "healthcheck.timeout"),
          StartPeriod: d(o.startPeriod, "healthcheck.startPeriod"), Retries: o.retries === undefined ? 0 : num(o.retries, "healthcheck.retries"),
          ...(o.startInterval !== undefined ? { StartInterval: d(o.startInterval, "healthcheck.startInterval") } : {}),
        };
        break;
      }
      case "logDriver": host.LogConfig = { ...(host.LogConfig as Obj), Type: str(v, key) }; break;
      case "logOpts": host.LogConfig = { ...(host.LogConfig as Obj), Config: only(v, key, Object.keys(v as Obj)) }; break;
      case "shmSize": host.ShmSize = num(v, key) * MB; break;
      case "memory": host.Memory = num(v, key) * MB; break;
      case "memoryReservation": host.MemoryReservation = num(v, key) * MB; break;
      case "memorySwap": host.MemorySwap = num(v, key) * MB; break;
      case "cpuShares": host.CpuShares = num(v, key); break;
      case "cpuSet": host.CpusetCpus = str(v, key); break;
      case "init": host.Init = Boolean(v); break;
      case "privileged": host.Privileged = Boolean(v); break;
      case "readOnly": host.ReadonlyRootfs = Boolean(v); break;
      case "ipcMode": host.IpcMode = str(v, key); break;
      case "networkMode": host.NetworkMode = str(v, key); break;
      case "securityOpts": host.SecurityOpt = strs(v, key); break;
      case "runtime": host.Runtime = str(v, key); break;
      case "capabilities": {
        const o = only(v, key, ["adds", "drops"]);
        host.CapAdd = o.adds ?? [];
        host.CapDrop = o.drops ?? [];
        break;
      }
      case "deviceRequests": case "gpus": {
        const empty = Array.isArray(v) && v.length === 0;
        if (empty) break;
        if (opts.gpu === "skip") { notes.push(`${key} dropped: this machine has no GPU (the real deployment passes ${JSON.stringify(v)})`); break; }
        throw new HarnessInputError(`docker.Container input ${key}=${JSON.stringify(v)}: this machine has no GPU; deploy the e2e stack with gpus: none (or pass gpu: "skip" to drop the request with a note)`);
      }
      // Provider-only behaviour (no engine field).
      case "start": out.start = Boolean(v); break;
      case "wait": out.wait = Boolean(v); break;
      case "waitTimeout": out.waitTimeoutS = num(v, key); break;
      case "destroyGraceSeconds": out.destroyGraceS = num(v, key); break;
      case "removeVolumes": out.removeVolumes = Boolean(v); break;
      case "mustRun": if (v === false) notes.push("mustRun=false: the harness does not re-start a stopped container either way"); break;
      case "rm": host.AutoRemove = Boolean(v); break;
      default:
        throw new HarnessInputError(`docker.Container input "${key}" is not modelled by the e2e harness; add it to test/e2e/harness/container-spec.ts (engine field, replace/update class) so the end-to-end test realises it`);
    }
  }
  if (!out.name) throw new HarnessInputError("docker.Container without a fixed name: the provider would auto-name it; the e2e harness needs `name`");
  if (!body.Image) throw new HarnessInputError("docker.Container input image is required");
  body.HostConfig = host;
  return out;
}

/** What the provider's update would send to POST /containers/{id}/update for in-place changes. */
export function containerUpdateBody(inputs: Obj): Obj {
  const policy: Obj = { Name: inputs.restart ?? "no" };
  if (inputs.maxRetryCount !== undefined) policy.MaximumRetryCount = inputs.maxRetryCount;
  const body: Obj = { RestartPolicy: policy };
  if (inputs.cpuShares !== undefined) body.CpuShares = inputs.cpuShares;
  if (inputs.memory !== undefined) body.Memory = Number(inputs.memory) * MB;
  if (inputs.memoryReservation !== undefined) body.MemoryReservation = Number(inputs.memoryReservation) * MB;
  if (inputs.memorySwap !== undefined) body.MemorySwap = Number(inputs.memorySwap) * MB;
  if (inputs.cpuSet !== undefined) body.CpusetCpus = inputs.cpuSet;
  return body;
}
