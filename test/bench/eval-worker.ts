// Child process of the benchmark (d): evaluates the Pulumi program under mocks and prints one JSON line.
// A process of its own so the cold figure includes loading @pulumi/* and the program, as `pulumi up` does.
import { performance } from "node:perf_hooks";
import { installMocks, resolveOutputs, setStackConfig } from "../helpers/pulumi-mocks.js";

const runs = Number(process.argv[2] ?? 10);
const PASSWORD = "bench-api-pw-4f9c2a";

const CONFIGS: Record<string, Record<string, unknown>> = {
  // One container on the local engine, CPU mode, an allowlist: the CI stack's shape.
  single: {
    apiPassword: PASSWORD,
    gpus: "none",
    outputsDir: "/srv/sd/outputs",
    modelsDir: "/srv/sd/models",
    firewallAllowlist: ["10.0.0.0/8", "2001:db8::/32"],
  },
  // Scale-out: two ssh hosts with four GPUs each, eight containers.
  scaleOut8: {
    apiPassword: PASSWORD,
    hosts: ["ssh://ops@gpu-1#0,1,2,3", "ssh://ops@gpu-2#0,1,2,3"],
    sshKnownHosts:
      "gpu-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBenchBenchBe\ngpu-2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBenchBenchBe",
    outputsDir: "/srv/sd/outputs",
    modelsDir: "/srv/sd/models",
  },
};

async function main(): Promise<void> {
  const t0 = performance.now();
  const engine = await installMocks({ stack: "bench" });
  const { deployStack } = await import("../../infra/program.js");
  const importMs = performance.now() - t0;
  const result: Record<string, unknown> = { importMs };
  for (const [name, settings] of Object.entries(CONFIGS)) {
    const times: number[] = [];
    let resources = 0;
    for (let i = 0; i < runs + 1; i++) {
      engine.reset();
      setStackConfig(settings);
      const s = performance.now();
      await resolveOutputs((await deployStack()) as Record<string, unknown>);
      times.push(performance.now() - s);
      resources = engine.resources.length;
    }
    result[name] = { firstMs: times[0], warmMs: times.slice(1), resources };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
