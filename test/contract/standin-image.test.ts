// The stand-in image mirrors the program's default image profile (universonic): entrypoint and how
// flags are passed, working dir = data root, uid/gid, internal port, folder ownership; no shell.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { PRESETS } from "../../infra/webui/profiles.js";
import { docker, requireDocker } from "../helpers/docker.js";
import { ensureStandinImage, STANDIN_IMAGE } from "../helpers/standin.js";

test("image config and layout match the universonic profile", (t) => {
  if (!requireDocker(t)) return;
  ensureStandinImage();
  const p = PRESETS.universonic;
  const cfg = JSON.parse(docker(["image", "inspect", STANDIN_IMAGE, "--format", "{{json .Config}}"])) as {
    Entrypoint: string[];
    Cmd: string[] | null;
    WorkingDir: string;
    User: string;
    Env: string[];
  };
  assert.deepEqual(cfg.Entrypoint, [
    "/usr/bin/node",
    "/opt/standin/server.js",
    "--update-check",
    "--xformers",
    "--listen",
    "--port",
    String(p.internalPort),
  ]);
  assert.ok(cfg.Cmd == null, "no CMD: docker args are the extra flags");
  assert.equal(p.flagsVia, "args");
  assert.equal(cfg.WorkingDir, p.dataRoot);
  assert.equal(cfg.User, `${p.uid}:${p.gid}`);
  assert.ok(cfg.Env.includes("TZ=UTC"));
  assert.equal(p.outputsPath, `${p.dataRoot}/outputs`);
  assert.equal(p.modelsPath, `${p.dataRoot}/models`);

  const name = `sd-standin-layout-${process.pid}`;
  docker(["create", "--name", name, STANDIN_IMAGE]);
  t.after(() => {
    spawnSync("docker", ["rm", "-f", name]);
  });
  const list = spawnSync("sh", ["-c", `docker export ${name} | tar -tv --numeric-owner`], {
    encoding: "utf8",
    timeout: 60_000,
  }).stdout;
  const owner = (path: string): string =>
    (list.split("\n").find((l) => l.endsWith(` ${path}/`)) ?? "").split(/\s+/)[1] ?? "";
  for (const d of [
    "app/stable-diffusion-webui",
    "app/stable-diffusion-webui/outputs",
    "app/stable-diffusion-webui/models/Stable-diffusion",
  ]) {
    assert.equal(owner(d), `${p.uid}/${p.gid}`, d);
  }
  assert.match(list, / usr\/bin\/python3\n/);
  assert.doesNotMatch(list, / (bin\/sh|usr\/bin\/sh|bin\/bash)\n/, "no shell in the image");
});
