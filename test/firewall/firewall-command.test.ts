// declareFirewall under Pulumi mocks: which command resource it registers and with which inputs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { before, beforeEach, describe, it } from "node:test";
import { allRegistered, installMocks, SECRET_SIG, unwrapSecrets, type MockEngine } from "../helpers/pulumi-mocks.js";
// Pure (it registers nothing), so it may be imported before the mocks are installed.
import { remoteWrap } from "../../infra/docker/ssh.js";

type ResourceModule = typeof import("../../infra/docker/firewall.js");
type Pulumi = typeof import("@pulumi/pulumi");

let engine: MockEngine;
let fw: ResourceModule;
let pulumi: Pulumi;

describe("declareFirewall", () => {
  before(async () => {
    engine = await installMocks();
    // Imported after setMocks: nothing may register before the mocks are in place.
    pulumi = await import("@pulumi/pulumi");
    fw = await import("../../infra/docker/firewall.js");
  });
  beforeEach(() => engine.reset());

  it("local: one command whose create and update apply the rules and whose delete removes them", async () => {
    const containerId = pulumi.output("c0ffee");
    const r = fw.declareFirewall(
      "fw",
      { input: { tag: "lab", port: 7860, allowlist: ["10.0.0.0/8"] }, reapplyOn: containerId },
      {},
    );
    await allRegistered();
    const reg = engine.one("command:local:Command");
    assert.equal(reg.name, "fw-iptables-lab");
    assert.equal(reg.inputs.create, r.rules.createScript);
    assert.equal(reg.inputs.update, r.rules.createScript, "update re-applies in place (atomic), never delete+create");
    assert.equal(reg.inputs.delete, r.rules.deleteScript);
    assert.deepEqual(reg.inputs.interpreter, ["/bin/sh", "-c"]);
    // stdin, not triggers: a trigger change would replace the command (create the new, then run the old
    // one's delete, which removes the same tag's fresh rules); not environment: over ssh that is Setenv.
    assert.equal(reg.inputs.triggers, undefined);
    assert.equal(reg.inputs.environment, undefined);
    assert.equal(reg.inputs.stdin, "c0ffee\n");
    assert.equal(reg.inputs.addPreviousOutputInEnv, false);
    assert.match(r.preview, /allow 10\.0\.0\.0\/8 to port 7860/);
    assert.ok(r.command);
  });

  it("remote: runs sh -c with the quoted script over the (secret) connection", async () => {
    const connection = { host: "10.231.0.9", user: "deploy", privateKey: pulumi.secret("KEY-DO-NOT-LOG") };
    const r = fw.declareFirewall(
      "fwr",
      { input: { tag: "lab", port: 7860, backend: "nftables" }, connection, sudo: true, reapplyOn: "x" },
      {},
    );
    await allRegistered();
    const reg = engine.one("command:remote:Command");
    assert.equal(reg.name, "fwr-nftables-lab");
    assert.ok(SECRET_SIG in (reg.inputs.connection as object), "the connection is stored as a secret");
    assert.equal((unwrapSecrets(reg.inputs.connection) as { host: string }).host, "10.231.0.9");
    assert.equal(reg.inputs.create, remoteWrap(r.rules.createScript, true));
    assert.equal(reg.inputs.update, reg.inputs.create);
    assert.equal(reg.inputs.delete, remoteWrap(r.rules.deleteScript, true));
    assert.match(String(reg.inputs.create), /^sudo -n sh -c '#!\/bin\/sh\n/);
    assert.doesNotMatch(JSON.stringify([reg.inputs.create, reg.inputs.delete]), /KEY-DO-NOT-LOG/);
  });

  it("remoteWrap survives the remote login shell: sshd runs `$SHELL -c <command>` (dash or bash)", () => {
    const script = `#!/bin/sh\nprintf '%s|' "it's" '$HOME' "\\n"\necho "$(printf x)"\n`;
    const direct = spawnSync("sh", ["-c", script], { encoding: "utf8" }).stdout;
    for (const shell of ["sh", "bash"]) {
      const r = spawnSync(shell, ["-c", remoteWrap(script)], { encoding: "utf8", timeout: 10_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, direct, shell);
    }
  });

  it("changing the tag or backend makes a differently named resource (create new, then delete old)", async () => {
    fw.declareFirewall("fw", { input: { tag: "a", port: 7860 } }, {});
    fw.declareFirewall("fw", { input: { tag: "b", port: 7860 } }, {});
    fw.declareFirewall("fw", { input: { tag: "a", port: 7860, backend: "nftables" } }, {});
    await allRegistered();
    const names = engine
      .byType("command:local:Command")
      .filter((x) => x.name.startsWith("fw-"))
      .map((x) => x.name);
    assert.equal(new Set(names).size, 3);
  });

  it("backend none: no resource, a warning", async () => {
    const r = fw.declareFirewall("fwn", { input: { tag: "lab", port: 7860, backend: "none" } }, {});
    await allRegistered();
    assert.equal(r.command, undefined);
    assert.equal(engine.resources.length, 0);
    assert.match(r.warnings.join(), /backend "none"/);
  });

  it("bad input throws before anything is registered, naming the field", async () => {
    assert.throws(() => fw.declareFirewall("fwx", { input: { tag: "lab;reboot", port: 7860 } }, {}), /firewall\.tag/);
    await allRegistered();
    assert.equal(engine.resources.length, 0);
  });
});
