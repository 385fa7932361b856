// The program through the real Pulumi CLI and the docker and command plugins, on this machine's Docker
// engine, configured as a user configures a stack of their own: deploy (the PNG on the host, named by the
// stack output) -> no plaintext password anywhere -> dependencies as the engine recorded them -> no-op
// `up --expect-no-changes` -> the change table of each kind of settings change -> in-place and replacing
// changes applied -> refresh after the container was removed, then stopped, by hand -> destroy keeps every
// file -> recreate continues the image counter. Steps run in order; after a failed step the rest skip.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { test, type TestContext } from "node:test";
import { spawnSync } from "node:child_process";
import { ofType, type Change, type StateResource } from "../helpers/engine-stack.js";
import {
  hashTree,
  httpGet,
  inspectContainer,
  stackContainers,
  taggedRules,
  waitFor200,
  ensureSmokeBuilt,
} from "../helpers/host-state.js";
import { filesContaining, requireEngine } from "../helpers/pulumi-cli.js";
import { requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { firewallTag } from "../../infra/docker/host-layout.js";
import { programStack, type ProgramStack } from "./fixture.js";

const T = {
  container: "docker:index/container:Container",
  image: "docker:index/remoteImage:RemoteImage",
  local: "command:local:Command",
} as const;
const byName = (rs: StateResource[], type: string, suffix: string) =>
  rs.find((r) => r.type === type && r.urn.endsWith(suffix));
// The real resources' changes: the components (logical groupings) show their recorded inputs' change as well.
const ops = (changes: Change[]) =>
  changes
    .filter((c) => !c.type.startsWith("sdwebui:index:"))
    .map((c) => `${c.op} ${c.name}`)
    .sort();
/** sha256 of every file in the stack's outputs and models folders, by "outputs/…" and "models/…". */
const folderHashes = (s: ProgramStack): Map<string, string> =>
  new Map([
    ...[...hashTree(s.outputsDir)].map(([k, v]): [string, string] => [`outputs/${k}`, v]),
    ...[...hashTree(s.modelsDir)].map(([k, v]): [string, string] => [`models/${k}`, v]),
  ]);
const counterOf = (file: string) => Number(/^(\d{5})-/.exec(basename(file))?.[1]);
/** The WebUI numbers images per dated folder: the next proof continues its folder's count, or starts a new day's at 0. */
const expectedCounter = (previous: string, file: string) =>
  dirname(previous) === dirname(file) ? counterOf(previous) + 1 : 0;

test(
  "a Docker-host stack through the real engine: deploy, prove, no-op, change, refresh, destroy, recreate",
  { timeout: 900_000 },
  async (t: TestContext) => {
    if (!requireEngine(t) || !requireDocker(t)) return;
    if (!requireOrSkip(t, process.getuid?.() === 0 ? "" : "the firewall needs root")) return;
    ensureStandinImage();
    t.diagnostic(ensureSmokeBuilt());
    const s: ProgramStack = programStack({ hostPort: await freePort() });
    t.after(() => s.cleanUp());

    let failed: string | undefined;
    const step = (name: string, fn: (st: TestContext) => void | Promise<void>) =>
      t.test(name, async (st) => {
        if (failed) return st.skip(`an earlier step failed (${failed})`);
        const t0 = Date.now();
        try {
          await fn(st);
        } catch (e) {
          failed = name;
          throw e;
        }
        st.diagnostic(`${name}: ${Date.now() - t0} ms`);
      });
    const proofs: string[] = [];
    const proven = () => String(s.stack.outputs().smokeFile);
    const container = () => ofType(s.stack.resources(), T.container)[0]!;
    let kept: Map<string, string> | undefined;

    await step("deploy: pulumi up creates everything and the smoke's PNG is on the host, in the outputs folder", () => {
      s.up();
      const file = proven();
      assert.ok(file.startsWith(`${s.outputsDir}/txt2img-images/`), file);
      assert.equal(readFileSync(file).subarray(0, 8).toString("hex"), "89504e470d0a1a0a");
      assert.ok(statSync(file).size > 0);
      assert.equal(counterOf(file), 0);
      proofs.push(file);
      assert.deepEqual(stackContainers(s.name), [`sdwebui-${s.name}`]);
    });

    await step("the container serves the API with the password it was given; without it, nothing", async () => {
      const port = Number(s.settings.hostPort);
      await waitFor200(`http://127.0.0.1:${port}/internal/ping`, undefined, 20_000);
      assert.equal(
        (await httpGet(`http://127.0.0.1:${port}/sdapi/v1/sd-models`, { username: s.username, password: s.password }))
          .status,
        200,
      );
      assert.equal((await httpGet(`http://127.0.0.1:${port}/sdapi/v1/sd-models`)).status, 401);
      const rules = taggedRules(s.tag());
      assert.ok(
        rules.some((r) => r.includes(`--ctorigdstport ${port}`)),
        rules.join("\n"),
      );
    });

    await step("no plaintext password in the state, its history, the outputs or anything the CLI printed", () => {
      assert.deepEqual(filesContaining(s.project.stateDir, s.password), []);
      assert.ok(!JSON.stringify(s.stack.outputs()).includes(s.password));
      assert.ok(!s.printed.some((p) => p.includes(s.password)));
    });

    await step("the engine's state: the order the program declares, folders retained on destroy", () => {
      const rs = s.stack.resources();
      const c = container();
      const fw = rs.find((r) => r.type === T.local && /-firewall-iptables-/.test(r.urn))!;
      const preflight = byName(rs, T.local, "sdwebui-preflight")!;
      const folders = byName(rs, T.local, "sdwebui-folders")!;
      const smoke = byName(rs, T.local, "sdwebui-smoke")!;
      const image = byName(rs, T.image, "sdwebui-image")!;
      for (const [r, deps, why] of [
        [c, [fw, preflight, folders], "the port is never published before the rules and the folders"],
        [fw, [preflight], "no rule changes before the port preflight"],
        [folders, [preflight], "no folder before the port preflight"],
        [image, [preflight], "the image is pulled by the preflight"],
        [smoke, [c, fw], "the proof runs against the running, guarded container"],
      ] as const)
        for (const d of deps) assert.ok(r.dependencies?.includes(d.urn), `${r.urn} depends on ${d.urn}: ${why}`);
      assert.equal(folders.retainOnDelete, true);
      assert.equal(folders.inputs?.delete, undefined);
    });

    await step("no-op: pulumi up --expect-no-changes straight after", () => {
      s.up(["--expect-no-changes"]);
    });

    await step("change tables: what each kind of settings change does, from pulumi preview --json", (st) => {
      const table = (over: Record<string, unknown>) => {
        const before = Object.fromEntries(Object.keys(over).map((k) => [k, s.settings[k]]));
        s.set(over);
        try {
          return s.stack.changes();
        } finally {
          s.set(before);
        }
      };
      const kinds: [string, Record<string, unknown>, (c: Change[]) => void][] = [
        [
          "port",
          { hostPort: String(Number(s.settings.hostPort) + 1) },
          (c) => {
            assert.ok(ops(c).includes("replace sdwebui-container"));
            assert.ok(
              c.some(
                (x) =>
                  x.op === "create" &&
                  x.name.includes(`-firewall-iptables-${firewallTag(s.name, Number(s.settings.hostPort) + 1)}`),
              ),
              "the new port's rules",
            );
            assert.ok(
              c.some((x) => x.op === "delete" && x.name.includes(`-firewall-iptables-${s.tag()}`)),
              "the old port's rules go",
            );
          },
        ],
        [
          "allowlist",
          { firewallAllowlist: ["198.51.100.0/24"] },
          (c) => assert.deepEqual(ops(c), [`update sdwebui-firewall-iptables-${s.tag()}`]),
        ],
        [
          "flags",
          { extraArgs: ["--medvram"] },
          (c) => {
            assert.ok(ops(c).includes("replace sdwebui-container"));
            assert.ok(ops(c).includes(`update sdwebui-firewall-iptables-${s.tag()}`), "the rules are re-applied");
            assert.ok(ops(c).includes("replace sdwebui-smoke"), "a new proof");
          },
        ],
        [
          "image",
          { image: "sd-webui-standin:other-tag" },
          (c) => {
            assert.ok(ops(c).includes("replace sdwebui-image"));
            assert.ok(ops(c).includes("update sdwebui-preflight"), "the preflight pulls the new image");
          },
        ],
        [
          "GPUs",
          { gpus: "1" },
          (c) => {
            const r = c.find((x) => x.name === "sdwebui-container")!;
            assert.equal(r.op, "replace");
            assert.ok(r.replaces.includes("deviceRequests"), JSON.stringify(r));
          },
        ],
        ["smoke", { smokeSteps: "3" }, (c) => assert.deepEqual(ops(c), ["update sdwebui-smoke"])],
        [
          "checkpoints",
          { checkpoints: [{ source: "/srv/models/any.safetensors", sha256: "a".repeat(64) }] },
          (c) => {
            assert.ok(ops(c).includes("create sdwebui-checkpoints"), "the placement step");
            assert.ok(ops(c).includes("replace sdwebui-container"), "restarted with --ckpt");
          },
        ],
      ];
      for (const [kind, over, check] of kinds) {
        const c = table(over);
        st.diagnostic(`${kind}: ${ops(c).join(", ")}`);
        check(c);
      }
      // The password is a secret setting; the same comparison through a secret.
      const oldPassword = s.password;
      s.stack.setConfig({ apiPassword: `${oldPassword}-new` }, ["apiPassword"], "sdwebui");
      try {
        const c = s.stack.changes();
        st.diagnostic(`password: ${ops(c).join(", ")}`);
        assert.ok(ops(c).includes("replace sdwebui-container"));
        assert.ok(ops(c).includes(`update sdwebui-firewall-iptables-${s.tag()}`));
      } finally {
        s.stack.setConfig({ apiPassword: oldPassword }, ["apiPassword"], "sdwebui");
      }
      s.up(["--expect-no-changes"]);
    });

    await step("in place: an allowlist change updates only the firewall; the container keeps its id", () => {
      const id = container().id;
      s.set({ firewallAllowlist: ["198.51.100.0/24"] });
      s.up();
      assert.equal(container().id, id);
      const rules = taggedRules(s.tag());
      assert.ok(
        rules.some((r) => r.includes("198.51.100.0/24")) && !rules.some((r) => r.includes("192.0.2.0/24")),
        rules.join("\n"),
      );
    });

    await step(
      "replace: a new host port replaces the container, the rules follow the port, the proof runs again",
      async () => {
        const oldPort = Number(s.settings.hostPort);
        const oldTag = s.tag();
        const newPort = await freePort();
        s.set({ hostPort: String(newPort) });
        s.up();
        await waitFor200(`http://127.0.0.1:${newPort}/internal/ping`, undefined, 20_000);
        await assert.rejects(httpGet(`http://127.0.0.1:${oldPort}/internal/ping`, undefined, 2000));
        assert.deepEqual(taggedRules(oldTag), [], "no rule for the old port");
        assert.ok(taggedRules(s.tag()).some((r) => r.includes(`--ctorigdstport ${newPort}`)));
        const file = proven();
        assert.equal(counterOf(file), expectedCounter(proofs.at(-1)!, file));
        proofs.push(file);
      },
    );

    await step(
      "replace: a new outputs folder replaces the container, which then writes there (the provider would only record it)",
      () => {
        const old = String(s.settings.outputsDir);
        const moved = `${old}-moved`;
        s.set({ outputsDir: moved });
        const c = s.stack.changes().find((x) => x.name === "sdwebui-container");
        assert.equal(c?.op, "replace", JSON.stringify(c));
        s.up();
        const bind = inspectContainer(`sdwebui-${s.name}`).Mounts.find((m) => m.Destination.endsWith("/outputs"))!;
        assert.equal(bind.Source, moved, "the running container binds the new folder");
        assert.ok(proven().startsWith(`${moved}/`), "the proof is in the new folder");
        s.set({ outputsDir: old });
        s.up();
        assert.equal(
          inspectContainer(`sdwebui-${s.name}`).Mounts.find((m) => m.Destination.endsWith("/outputs"))!.Source,
          old,
        );
        const file = proven();
        assert.ok(file.startsWith(`${old}/`));
        proofs.push(file);
      },
    );

    await step(
      "a new password replaces the container: the new one is accepted, the old one refused, the rules stay",
      async () => {
        const port = Number(s.settings.hostPort);
        const old = s.password;
        const rotated = `${old}-rotated`;
        s.stack.setConfig({ apiPassword: rotated }, ["apiPassword"], "sdwebui");
        s.password = rotated;
        const id = container().id;
        s.up();
        assert.notEqual(container().id, id);
        await waitFor200(`http://127.0.0.1:${port}/internal/ping`, undefined, 20_000);
        const url = `http://127.0.0.1:${port}/sdapi/v1/sd-models`;
        assert.equal((await httpGet(url, { username: s.username, password: rotated })).status, 200);
        assert.equal((await httpGet(url, { username: s.username, password: old })).status, 401);
        assert.ok(taggedRules(s.tag()).length > 0);
        assert.ok(!s.printed.some((p) => p.includes(rotated) || p.includes(old)));
        proofs.push(proven());
      },
    );

    await step("a new container name on the same port replaces it under that name", () => {
      s.set({ containerName: `renamed-${s.name}` });
      s.up();
      assert.deepEqual(stackContainers(s.name), [`renamed-${s.name}`]);
      s.unset(["containerName"]);
      s.up();
      assert.deepEqual(stackContainers(s.name), [`sdwebui-${s.name}`]);
      proofs.push(proven());
    });

    await step(
      "refresh after the container was removed by hand: it leaves the state, and up recreates and proves it",
      () => {
        spawnSync("docker", ["rm", "-f", `sdwebui-${s.name}`], { timeout: 60_000 });
        s.stack.refresh();
        assert.equal(ofType(s.stack.resources(), T.container).length, 0, "refresh dropped the removed container");
        s.up();
        assert.equal(inspectContainer(`sdwebui-${s.name}`).State.Running, true);
        const file = proven();
        assert.equal(counterOf(file), expectedCounter(proofs.at(-1)!, file), "proven again");
        proofs.push(file);
      },
    );

    await step(
      "refresh after the container was stopped by hand: up brings it back running and proves it again",
      (st) => {
        spawnSync("docker", ["stop", "-t", "1", `sdwebui-${s.name}`], { timeout: 60_000 });
        s.stack.refresh();
        const c = container();
        assert.equal(c.outputs?.mustRun, false, "refresh records that it does not run");
        const plan = s.stack.changes().filter((x) => x.name === "sdwebui-container");
        st.diagnostic(`after refresh: ${plan.map((x) => `${x.op} [${x.diffs.join(",")}]`).join("; ")}`);
        s.up();
        assert.equal(inspectContainer(`sdwebui-${s.name}`).State.Running, true);
        const file = proven();
        assert.equal(counterOf(file), expectedCounter(proofs.at(-1)!, file), "proven again");
        proofs.push(file);
        s.up(["--expect-no-changes"]);
      },
    );

    await step(
      "destroy: the container and its rules are gone, every file in the host folders stays, byte for byte",
      () => {
        writeFileSync(join(s.outputsDir, "marker.txt"), `kept ${randomBytes(8).toString("hex")}\n`);
        mkdirSync(join(s.modelsDir, "Lora"), { recursive: true });
        writeFileSync(join(s.modelsDir, "Lora", "marker.safetensors"), randomBytes(4096));
        kept = folderHashes(s);
        s.stack.destroy();
        assert.deepEqual(stackContainers(s.name), []);
        assert.deepEqual(taggedRules(s.tag()), []);
        const now = folderHashes(s);
        for (const [k, v] of kept) assert.equal(now.get(k), v, `${k} unchanged`);
        for (const f of proofs) assert.ok(statSync(f).isFile(), `${f} kept`);
      },
    );

    await step("recreate: up again, the image counter continues in the same dated folder", () => {
      s.up();
      const file = proven();
      assert.equal(dirname(file), dirname(proofs.at(-1)!));
      assert.equal(counterOf(file), expectedCounter(proofs.at(-1)!, file));
      s.up(["--expect-no-changes"]);
    });

    await step("secrets: the password was in nothing the CLI printed during the whole run", () => {
      assert.ok(s.printed.length >= 8);
      assert.ok(!s.printed.some((p) => p.includes(s.password)));
      assert.deepEqual(filesContaining(s.project.stateDir, s.password), []);
    });
  },
);
