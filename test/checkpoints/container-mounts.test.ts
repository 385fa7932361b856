// A real container (the WebUI stand-in) with the program's own mounts and flags, after the real folders and
// placement steps: the WebUI starts with a read-only checkpoints folder and lists the placed model, and
// its uid cannot delete, rename, replace, truncate or link among the placed models, nor move the folder;
// the rest of the models folder stays writable (the WebUI keeps other models there).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { placementScript } from "../../infra/docker/steps/place-checkpoints.js";
import { resolveCheckpoints } from "../../infra/config/checkpoints.js";
import { containerSpec } from "../../infra/docker/container-spec.js";
import { launchSpec, webuiFlags } from "../../infra/common/launch-flags.js";
import { foldersScript } from "../../infra/docker/steps/folders.js";
import { PRESETS } from "../../infra/webui/profiles.js";
import { docker, requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { ensureStandinImage, STANDIN_IMAGE } from "../helpers/standin.js";
import { root, sha } from "./harness.js";

const profile = PRESETS.universonic;
const creds = {
  api: { username: "sdwebui", password: `pw-${randomBytes(8).toString("hex")}` },
  ui: { username: "sdwebui", password: `ui-${randomBytes(8).toString("hex")}` },
};
/** GET a JSON body within 2 s; undefined on any error or non-200 answer. */
function getJson(url: string, authorization: string): Promise<unknown> {
  return new Promise((resolve) => {
    const req = request(url, { headers: { authorization }, timeout: 2000 }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve(res.statusCode === 200 ? JSON.parse(text) : undefined));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}
const sh = (script: string) => execFileSync("/bin/sh", ["-c", script], { encoding: "utf8", stdio: "pipe" });

/** Each operation a compromised WebUI might try, run as the container's uid; prints the errno code of each. */
const ATTEMPTS = `
const fs = require("fs"), ckpt = process.argv[1], out = {};
const attempt = (name, fn) => { try { fn(); out[name] = "ok"; } catch (e) { out[name] = e.code; } };
attempt("unlink", () => fs.unlinkSync(ckpt + "/m.safetensors"));
attempt("rename", () => fs.renameSync(ckpt + "/m.safetensors", ckpt + "/x.safetensors"));
attempt("truncate", () => fs.writeFileSync(ckpt + "/m.safetensors", "replaced"));
attempt("create", () => fs.writeFileSync(ckpt + "/planted.safetensors", "x"));
attempt("symlink", () => fs.symlinkSync("/etc/shadow", ckpt + "/link.safetensors"));
attempt("mkdir", () => fs.mkdirSync(ckpt + "/planted"));
attempt("renameFolder", () => fs.renameSync(ckpt, ckpt + ".moved"));
attempt("rmdirFolder", () => fs.rmdirSync(ckpt));
attempt("writeModelsFolder", () => fs.mkdirSync(ckpt + "/../VAE-approx", { recursive: true }));
console.log(JSON.stringify(out));
`;

describe("the container's mounts against the placed models", () => {
  it("a container with the program's mounts lists the placed model and cannot delete, replace or link among them (uid 1000)", async (t) => {
    if (
      !requireDocker(t) ||
      !requireOrSkip(t, process.getuid?.() === 0 ? "" : "needs root (the host steps run as root)")
    )
      return;
    ensureStandinImage();
    const base = join(root, `container-${randomBytes(4).toString("hex")}`);
    const [outputs, models, source] = [join(base, "outputs"), join(base, "models"), join(base, "source.safetensors")];
    mkdirSync(base);
    const bytes = randomBytes(64 * 1024);
    writeFileSync(source, bytes);
    sh(
      foldersScript({
        outputsDir: outputs,
        modelsDir: models,
        uid: profile.uid,
        gid: profile.gid,
        profile: profile.name,
      }),
    );
    const checkpoints = resolveCheckpoints([
      { source, sha256: sha(bytes), fileName: "m.safetensors", loadFirst: false, useToken: false },
    ]);
    sh(placementScript({ modelsDir: models, checkpoints, writtenDirs: [models, outputs] }));
    const placed = join(models, "Stable-diffusion", "m.safetensors");
    const before = statSync(placed);
    assert.deepEqual([before.uid, before.mode & 0o777], [0, 0o644]);

    const plan = containerSpec(
      {
        hostPort: 7860,
        bindAddress: "127.0.0.1",
        outputsDir: outputs,
        modelsDir: models,
        exposure: "api-only",
        shmSizeMb: 64,
      },
      profile,
      { kind: "none" },
      { project: "sdwebui", stack: "mounts-test" },
    );
    const launch = launchSpec(
      profile,
      webuiFlags({ exposure: "api-only", extraArgs: [], checkpoints: [] }, profile, { kind: "none" }, creds, {
        noModelDownload: true,
      }),
    );
    const name = `sdwebui-mounts-${randomBytes(4).toString("hex")}`;
    const mounts = plan.mounts.flatMap((m) => [
      "--mount",
      `type=bind,source=${m.source},target=${m.target}${m.readOnly ? ",readonly" : ""}`,
    ]);
    docker([
      "run",
      "-d",
      "--pull",
      "never",
      "--name",
      name,
      "--user",
      plan.user,
      "-w",
      plan.workingDir,
      "-p",
      "127.0.0.1::8080",
      ...mounts,
      STANDIN_IMAGE,
      ...launch.command!,
    ]);
    t.after(() => void spawnSync("docker", ["rm", "-f", name]));
    try {
      const port = docker(["port", name, "8080/tcp"]).trim().split("\n")[0]!.split(":").pop();
      const auth = `Basic ${Buffer.from(`${creds.api.username}:${creds.api.password}`).toString("base64")}`;
      let listed: { filename: string }[] = [];
      for (
        const t0 = Date.now();
        listed.length === 0 && Date.now() - t0 < 30_000;
        await new Promise((r) => setTimeout(r, 300))
      ) {
        const body = await getJson(`http://127.0.0.1:${port}/sdapi/v1/sd-models`, auth);
        if (Array.isArray(body)) listed = body as { filename: string }[];
      }
      assert.deepEqual(
        listed.map((m) => m.filename),
        [`${profile.modelsPath}/Stable-diffusion/m.safetensors`],
        "the WebUI started and lists the placed model",
      );

      const out = JSON.parse(
        docker(["exec", "-u", plan.user, name, "node", "-e", ATTEMPTS, `${profile.modelsPath}/Stable-diffusion`]),
      ) as Record<string, string>;
      assert.deepEqual(out, {
        unlink: "EROFS",
        rename: "EROFS",
        truncate: "EROFS",
        create: "EROFS",
        symlink: "EROFS",
        mkdir: "EROFS",
        renameFolder: "EBUSY",
        rmdirFolder: "EBUSY",
        writeModelsFolder: "ok",
      });
    } catch (e) {
      throw new Error(
        `${(e as Error).message}\ncontainer logs:\n${spawnSync("docker", ["logs", name], { encoding: "utf8" }).stdout}`,
      );
    }
    const after = statSync(placed);
    assert.deepEqual([after.ino, after.uid, after.mode & 0o777], [before.ino, 0, 0o644]);
    assert.deepEqual(readFileSync(placed), bytes, "the placed model byte for byte");
    assert.deepEqual(
      readdirSync(join(models, "Stable-diffusion")).filter((f) => f !== ".sdwebui-staging"),
      ["m.safetensors"],
    );
  });
});
