// What a smoke run takes, reports and has done so far; apart from the run so that its steps can share the
// types without importing the run.
import type { CheckpointsReport } from "./checkpoint-proof.js";
import type { CliFlags } from "./cli-flags.js";
import type { HostAccess } from "./host.js";
import type { LockReport } from "./lock.js";
import type { ApiGet } from "./rollout.js";
import type { TlsReport } from "./tls-proof.js";

export interface SmokeInput {
  flags: CliFlags;
  apiPassword: string;
  uiPassword: string;
  /** HTTPS: the root certificate(s) to pin, PEM (default: the system's roots). */
  tlsCa?: string;
  host: HostAccess;
  hostUp: () => Promise<boolean>;
  log: (line: string) => void;
  /** The Kubernetes API for --kubernetes-rollout (tests); default: the pod's own service account. */
  kubernetesApi?: ApiGet;
}

export interface Timings {
  readyMs: number;
  generateMs: number;
  locateMs: number;
  lockMs: number;
  totalMs: number;
}

export interface SmokeReport {
  ok: true;
  mode: "txt2img" | "img2img";
  file: string;
  containerFile: string;
  bytes: number;
  width: number;
  height: number;
  seed: number;
  runId: string;
  searched: string[];
  lock: LockReport;
  /** The declared checkpoints as the WebUI serves them (when --checkpoint was given). */
  checkpoints?: CheckpointsReport;
  /** HTTPS: the certificate served and the ways around the proxy found closed. */
  tls?: TlsReport;
  timings: Timings;
}

/** Progress of a run, so a failure report can still show the run id, seed and timings so far. */
export interface RunState {
  runId: string;
  seed?: number;
  timings: Partial<Timings>;
}
