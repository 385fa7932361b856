// The operator CLI as a user runs it (a child process), with fake iptables binaries on PATH that
// record every call: plan must touch nothing, bad flags exit 2 naming the flag.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const dir = mkdtempSync(join(tmpdir(), "sdwebui-fw-cli-"));
const calls = join(dir, "calls");
for (const bin of ["iptables", "ip6tables", "iptables-restore", "ip6tables-restore", "nft"]) {
  writeFileSync(
    join(dir, bin),
    `#!/bin/sh\necho "${bin} $*" >> "${calls}"\ncase "${bin}" in *restore) cat >/dev/null;; esac\nexit 0\n`,
  );
  chmodSync(join(dir, bin), 0o755);
}

function cli(...args: string[]) {
  rmSync(calls, { force: true });
  const r = spawnSync(process.execPath, ["--import", "tsx", "tools/firewall/cli.ts", ...args], {
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
  });
  return { ...r, calls: existsSync(calls) ? readFileSync(calls, "utf8") : "" };
}

describe("npm run firewall", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("plan prints the script and the preview, and runs nothing", () => {
    const r = cli("plan", "--tag", "lab", "--port", "7860", "--allow", "10.1.0.0/16", "--allow", "fd00:1::/64");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^#!\/bin\/sh\n/);
    assert.match(r.stdout, /-I DOCKER-USER 1 -s 10\.1\.0\.0\/16 /);
    assert.match(r.stderr, /IPv4: allow 10\.1\.0\.0\/16 to port 7860/);
    assert.equal(r.calls, "", "plan must not call iptables");
  });

  it("plan with no --allow says deny every remote client", () => {
    const r = cli("plan", "--tag", "lab", "--port", "7860", "--backend", "nftables");
    assert.equal(r.status, 0);
    assert.match(r.stderr, /deny every remote client to port 7860 \(empty allowlist\)/);
    assert.match(r.stdout, /nft -f -/);
  });

  it("apply, status and delete run the plan's scripts", () => {
    const a = cli("apply", "--tag", "lab", "--port", "7860", "--allow", "10.1.0.0/16");
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.calls, /^iptables-restore --noflush$/m);
    const s = cli("status", "--tag", "lab", "--port", "7860");
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /IPv4 filter DOCKER-USER: 0 rules tagged lab/);
    const d = cli("delete", "--tag", "lab", "--port", "7860");
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, /removed 0 IPv4/);
  });

  const bad: [string[], RegExp][] = [
    [["plan", "--port", "7860"], /--tag is required/],
    [["plan", "--tag", "lab"], /--port is required/],
    [["plan", "--tag", "la b", "--port", "7860"], /--tag: use 1-128 characters/],
    [["plan", "--tag", "lab", "--port", "78x"], /--port: must be a TCP port \(a whole number 1-65535\)/],
    [["plan", "--tag", "lab", "--port", "70000"], /--port: must be a TCP port \(a whole number 1-65535\), e.g. 7860/],
    [
      ["plan", "--tag", "lab", "--port", "1", "--allow", "10.0.0.1/8"],
      /--allow \(10\.0\.0\.1\/8\): .*host bits set: write the network 10\.0\.0\.0\/8/,
    ],
    [["plan", "--tag", "lab", "--port", "1", "--allow", "nope"], /--allow \(nope\): /],
    [["plan", "--tag", "lab", "--port", "1", "--backend", "ufw"], /--backend: must be "iptables"/],
    [["nuke", "--tag", "lab", "--port", "1"], /unknown command "nuke": expected one of plan, apply, delete, status/],
    [["plan", "--tag", "lab", "--port", "1", "--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of bad) {
    it(`exits 2 on ${args.join(" ")}`, () => {
      const r = cli(...args);
      assert.equal(r.status, 2);
      assert.match(r.stderr, message);
      assert.equal(r.calls, "");
    });
  }

  it("exits 1 with the script's message when apply fails", () => {
    writeFileSync(join(dir, "iptables"), "#!/bin/sh\nexit 1\n");
    const r = cli("apply", "--tag", "lab", "--port", "7860", "--wait", "0");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /DOCKER-USER not found/);
  });
});
