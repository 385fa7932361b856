// The test cluster (test/cluster/cluster.sh): brought up once per test file (and stopped by it, so that
// kube-proxy's rules and the node's network are gone before other tests run), with the stand-in and the
// smoke images loaded into its containerd, a storage class whose volumes are host folders, and kubectl.
import { spawnSync } from "node:child_process";
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { settingDefault } from "../../infra/config/schema.js";
import { requireOrSkip } from "./requirements.js";
import { STANDIN_IMAGE } from "./standin.js";

const SCRIPT = join(REPO_ROOT, "test/cluster/cluster.sh");
export const STORAGE_CLASS = "sdwebui-host-folders";
export const FAKE_GPUS = 2;

export interface TestCluster {
  kubeconfig: string;
  kubectl(args: string[], input?: string): { status: number | null; stdout: string; stderr: string };
  /** kubectl … -o json, parsed; throws with kubectl's message when it fails. */
  json<T = unknown>(args: string[]): T;
  /**
   * A PersistentVolume of the test storage class backed by a host folder (owned by uid/gid 1000, as the WebUI
   * runs), reserved for one claim: two volumes of one class and size would otherwise bind either way round.
   */
  hostFolderVolume(name: string, dir: string, claim: { namespace: string; name: string }): void;
  /** Copies Docker images into the node's containerd. */
  load(...images: string[]): void;
}

let cached: TestCluster | undefined;

/** One test process at a time has the cluster (test files run in parallel): a lock folder holding its pid. */
const LOCK = "/tmp/sdwebui-test-cluster.lock";

function lockCluster(): void {
  for (;;) {
    // Ours already (an earlier test of this file took it, and its bring-up may have failed).
    if (readPid() === process.pid) return;
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      return;
    } catch {
      // Taken: wait for its holder, or take it over from a holder that died.
      const holder = readPid();
      if (holder > 0 && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
      else spawnSync("sleep", ["1"]);
    }
  }
}

/** The lock holder's pid; 0 while there is none (or it has not written it yet). */
function readPid(): number {
  try {
    return Number(readFileSync(join(LOCK, "pid"), "utf8")) || 0;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function requireCluster(t: TestContext): TestCluster | undefined {
  if (cached) return cached;
  if (!requireOrSkip(t, process.getuid?.() === 0 ? "" : "the test cluster needs root (kubelet, containerd, network)"))
    return undefined;
  lockCluster();
  const up = spawnSync("bash", [SCRIPT, "up"], {
    encoding: "utf8",
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 90 * 60_000,
  });
  if (up.status !== 0) {
    // Leave the machine as found, and the cluster to the next test file.
    spawnSync("bash", [SCRIPT, "down"], { stdio: ["ignore", "inherit", "inherit"] });
    rmSync(LOCK, { recursive: true, force: true });
    throw new Error(`test/cluster/cluster.sh up failed (exit ${up.status}); its output is above`);
  }
  const load = (...images: string[]) => {
    const r = spawnSync("bash", [SCRIPT, "load", ...images], {
      encoding: "utf8",
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status !== 0)
      throw new Error(
        `loading ${images.join(", ")} into the node failed (npm run standin:image and npm run smoke:image build them)`,
      );
  };
  load(STANDIN_IMAGE, settingDefault("smokeImage"));
  const vars = Object.fromEntries(
    spawnSync("bash", [SCRIPT, "env"], { encoding: "utf8" })
      .stdout.trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const kubeconfig = vars.KUBECONFIG!;
  const binDir = vars.KUBE_BIN!;
  const kubectl = (args: string[], input?: string) => {
    const r = spawnSync(join(binDir, "kubectl"), args, {
      encoding: "utf8",
      input,
      env: { ...process.env, KUBECONFIG: kubeconfig },
      timeout: 120_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const json = <T>(args: string[]): T => {
    const r = kubectl([...args, "-o", "json"]);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  kubectl(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: STORAGE_CLASS },
      provisioner: "kubernetes.io/no-provisioner",
      volumeBindingMode: "Immediate",
      reclaimPolicy: "Retain",
    }),
  );
  cached = {
    kubeconfig,
    kubectl,
    json,
    load,
    hostFolderVolume(name, dir, claim) {
      mkdirSync(dir, { recursive: true });
      chownSync(dir, 1000, 1000);
      const r = kubectl(
        ["apply", "-f", "-"],
        JSON.stringify({
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name },
          spec: {
            capacity: { storage: "10Gi" },
            accessModes: ["ReadWriteOnce", "ReadWriteMany"],
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: STORAGE_CLASS,
            hostPath: { path: dir, type: "Directory" },
            claimRef: claim,
          },
        }),
      );
      if (r.status !== 0) throw new Error(`PersistentVolume ${name}: ${r.stderr}`);
    },
  };
  return cached;
}

/** Stops the cluster and removes its state (the host folders behind volumes are the tests' own). */
export function stopCluster(): void {
  if (!cached) return;
  // For a look at a failed run: SDWEBUI_KEEP_CLUSTER=1 leaves it up (cluster.sh down stops it).
  if (process.env.SDWEBUI_KEEP_CLUSTER === "1" && !process.env.CI) return;
  cached = undefined;
  const down = spawnSync("bash", [SCRIPT, "down"], { encoding: "utf8", stdio: ["ignore", "inherit", "inherit"] });
  rmSync(LOCK, { recursive: true, force: true });
  if (down.status !== 0) throw new Error("test/cluster/cluster.sh down failed; its output is above");
}

export const kubeconfigText = (c: TestCluster) => readFileSync(c.kubeconfig, "utf8");
