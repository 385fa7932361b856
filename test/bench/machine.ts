// The machine a benchmark ran on: CPU model and cores, memory, kernel, Node, Docker, iptables.
import { spawnSync } from "node:child_process";
import * as os from "node:os";

function version(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim().split("\n")[0] ?? null;
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  dockerServer: string | null;
  dockerClient: string | null;
  iptables: string | null;
  uid: number | null;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    dockerServer: version("docker", ["version", "--format", "{{.Server.Version}}"]),
    dockerClient: version("docker", ["version", "--format", "{{.Client.Version}}"]),
    iptables: version("iptables", ["--version"]),
    uid: process.getuid?.() ?? null,
  };
}
