// The host scripts (infra/**/*.sh) as files: each names its shell and passes shellcheck on its own, and the
// text a step runs sets the arguments first, quoted (lib/sh-script.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { shScript } from "../../lib/sh-script.js";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { requireShellcheck } from "../helpers/requirements.js";

const scripts = readdirSync(join(REPO_ROOT, "infra"), { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".sh"))
  .map((f) => join("infra", f))
  .sort();

describe("host scripts", () => {
  it("are there (the Docker host steps' and the firewall's)", () => {
    for (const f of ["docker/steps/folders.sh", "docker/steps/place-checkpoints.sh", "firewall/iptables.sh"])
      assert.ok(scripts.includes(`infra/${f}`), `infra/${f} in ${scripts.join(" ")}`);
  });

  for (const f of scripts) {
    it(`${f} starts with #!/bin/sh and # shellcheck shell=sh, and passes shellcheck -s sh`, (t) => {
      assert.match(readFileSync(join(REPO_ROOT, f), "utf8"), /^#!\/bin\/sh\n# shellcheck shell=sh\n# \S/);
      if (!requireShellcheck(t)) return;
      const r = spawnSync("shellcheck", ["-s", "sh", f], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  }

  it("sets every argument, quoted, before the files' text, in the order given", () => {
    const steps = join(REPO_ROOT, "infra/docker/steps");
    const args = ["/a b", "it's", 7, ""];
    const text = shScript(steps, ["host-walk.sh", "folders.sh"], args);
    assert.equal(text.split("\n")[0], `set -- '/a b' 'it'\\''s' 7 ''`);
    assert.ok(text.indexOf("enter_dir()") < text.indexOf("fail() {"), "the shared functions come first");
    const r = spawnSync("/bin/sh", ["-c", `${shScript(steps, [], args)}printf '[%s]' "$@"`], { encoding: "utf8" });
    assert.equal(r.stdout, "[/a b][it's][7][]");
  });
});
