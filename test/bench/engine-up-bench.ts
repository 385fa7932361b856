// (f) `pulumi up` through the real engine and the docker and command plugins: this program (smoke on,
// firewall, host steps) against a floor program of one RemoteImage and one Container of the same image
// through the same plugins, fresh and no-op, in one run; the smoke's own time measured by running its
// command as the resource does. Goals: no-op ≤ 1.3× the floor's no-op; fresh ≤ floor + smoke + 20 %.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { EngineStack } from "../helpers/engine-stack.js";
import { removeStackContainers } from "../helpers/host-state.js";
import { pluginsMissing, tinyProgram } from "../helpers/pulumi-cli.js";
import { ensureStandinImage, freePort, STANDIN_IMAGE } from "../helpers/standin.js";
import { programStack } from "../deploy/fixture.js";
import { median, round, Skip } from "./stats.js";
import type { Section } from "./stats.js";

const FLOOR = `const docker = require("@pulumi/docker");
const pulumi = require("@pulumi/pulumi");
const cfg = new pulumi.Config();
const image = new docker.RemoteImage("floor-image", { name: cfg.require("image"), keepLocally: true });
new docker.Container("floor-container", {
  image: image.imageId, name: cfg.require("name"), restart: "unless-stopped",
  ports: [{ internal: 8080, external: cfg.requireNumber("port"), ip: "127.0.0.1" }],
  command: ["--api", "--listen", "--port", "8080", "--use-cpu", "all", "--skip-torch-cuda-test", "--no-half"],
});
`;

const timedRun = (fn: () => void): number => {
  const t0 = Date.now();
  fn();
  return Date.now() - t0;
};

export async function engineUpSection(runs: number, log: (l: string) => void): Promise<Section> {
  const missing = pluginsMissing();
  if (missing) throw new Skip(missing);
  if (process.getuid?.() !== 0) throw new Skip("the program's firewall step needs root");
  ensureStandinImage();
  const n = Math.min(runs, 5);
  const floorProject = tinyProgram("floor", FLOOR);
  const floorName = `bench-floor-${process.pid}`;
  const floor = EngineStack.init(floorProject, floorName, {
    config: { image: STANDIN_IMAGE, name: floorName, port: String(await freePort()) },
    namespace: "floor",
  });
  const full = programStack({ hostPort: await freePort(), name: `bench-full-${process.pid}` });
  const t = {
    floorFresh: [] as number[],
    floorNoop: [] as number[],
    fullFresh: [] as number[],
    fullNoop: [] as number[],
    smoke: [] as number[],
  };
  try {
    for (let i = 0; i < n; i++) {
      log(`bench: engine up, run ${i + 1}/${n}: floor fresh, no-op; program fresh, no-op; the smoke alone`);
      t.floorFresh.push(timedRun(() => floor.up()));
      t.floorNoop.push(timedRun(() => floor.up()));
      floor.destroy();
      t.fullFresh.push(timedRun(() => full.up()));
      t.fullNoop.push(timedRun(() => full.up()));
      t.smoke.push(smokeAlone(full.stack, full.project.dir));
      full.stack.destroy();
    }
  } finally {
    floorProject.cleanUp();
    await full.cleanUp();
    removeStackContainers(floorName);
    spawnSync("docker", ["rm", "-f", floorName], { timeout: 60_000 });
  }
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof t, number>;
  const noopRatio = m.fullNoop / m.floorNoop;
  const freshBound = (m.floorFresh + m.smoke) * 1.2;
  return {
    id: "engine-up",
    title: "pulumi up of this program vs one RemoteImage and one Container (the engine's floor)",
    status: "ok",
    runs: n,
    target: {
      text: "no-op ≤ 1.3× the floor's no-op; fresh ≤ (floor fresh + smoke) × 1.2",
      met: noopRatio <= 1.3 && m.fullFresh <= freshBound,
    },
    figures: { ...m, noopRatio: round(noopRatio), freshBoundMs: round(freshBound, 0) },
    table: [
      ["", "floor (ms)", "this program (ms)", "ratio"],
      ["fresh pulumi up", String(m.floorFresh), String(m.fullFresh), `${round(m.fullFresh / m.floorFresh)}×`],
      ["no-op pulumi up", String(m.floorNoop), String(m.fullNoop), `${round(noopRatio)}×`],
      ["the smoke step alone", "—", String(m.smoke), ""],
    ],
    notes: [
      "Each figure is the median of the runs; each run starts from an empty stack (the program's host folders are kept, as in use).",
      "The smoke alone: the smoke resource's own command (from the state), run by hand against the deployed container.",
    ],
  };
}

/** The smoke command as the resource runs it (its command line and environment from the state), timed. */
function smokeAlone(stack: EngineStack, projectDir: string): number {
  const smoke = stack.resourcesWithSecrets().find((r) => r.urn.endsWith("sdwebui-smoke"));
  if (!smoke?.inputs) throw new Error("the program's state has no smoke step");
  const env = { ...process.env, ...(smoke.inputs.environment as Record<string, string>) };
  const t0 = Date.now();
  const r = spawnSync("/bin/sh", ["-c", String(smoke.inputs.create)], {
    cwd: join(projectDir, "dist", "infra"),
    env,
    encoding: "utf8",
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`the smoke command failed when run alone: ${r.stderr.slice(-1000)}`);
  return Date.now() - t0;
}
