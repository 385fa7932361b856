// The generated scripts as programs: shellcheck on every variant, and their logic run by /bin/sh
// against fake iptables binaries (no root, no kernel): exact-tag matching, the restore transaction.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { firewallRuleSet, type FirewallInput } from "../../infra/firewall/rules.js";

const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;
if (!hasShellcheck && process.env.CI)
  throw new Error("CI=true but shellcheck is not installed (apt-get install shellcheck)");

describe(
  "shellcheck -s sh passes on every generated script",
  { skip: hasShellcheck ? false : "shellcheck not installed" },
  () => {
    const many = Array.from({ length: 50 }, (_, i) => `10.${i}.0.0/16`);
    const variants: FirewallInput[] = [];
    for (const backend of ["iptables", "nftables"] as const) {
      for (const allowlist of [[], ["192.168.1.0/24"], ["fd00:1::/64"], [...many, "2001:db8::/32"]]) {
        variants.push({ tag: "sdwebui-a.b_c", port: 7860, allowlist, backend });
      }
    }
    variants.push({ tag: "9", port: 1, waitForDockerSeconds: 0 });
    for (const v of variants) {
      for (const kind of ["createScript", "deleteScript", "statusScript"] as const) {
        it(`${v.backend ?? "iptables"} ${kind} with ${v.allowlist?.length ?? 0} networks`, () => {
          const r = spawnSync("shellcheck", ["-s", "sh", "-"], {
            input: firewallRuleSet(v)[kind],
            encoding: "utf8",
            timeout: 30_000,
          });
          assert.equal(r.status, 0, r.stdout + r.stderr);
        });
      }
    }
  },
);

// Fake iptables/ip6tables print a canned listing; fake *-restore record their stdin.
describe("scripts against fake iptables binaries", () => {
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-fw-fake-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fake = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  for (const bin of ["iptables", "ip6tables"]) {
    fake(bin, `case "$*" in *" -L "*) [ -e "${dir}/no-chain" ] && exit 1; exit 0;; esac\ncat "${dir}/listing-${bin}"`);
    fake(`${bin}-restore`, `cat >> "${dir}/restored-${bin}"`);
  }
  const listing4 = [
    "-N DOCKER-USER",
    '-A DOCKER-USER -s 10.0.0.0/8 -m comment --comment "lab" -j RETURN',
    '-A DOCKER-USER -m comment --comment "lab2" -j DROP',
    '-A DOCKER-USER -m comment --comment "xlab" -j DROP',
    '-A DOCKER-USER -m comment --comment "l.b" -j DROP',
    "-A DOCKER-USER -m comment --comment lab -j DROP",
    "-A DOCKER-USER -s 10.9.0.0/16 -j RETURN",
    "-A DOCKER-USER -j RETURN",
  ].join("\n");
  const run = (script: string) => {
    for (const f of ["restored-iptables", "restored-ip6tables"]) rmSync(join(dir, f), { force: true });
    const r = spawnSync("sh", ["-c", script], {
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "");
    return { ...r, v4: read("restored-iptables"), v6: read("restored-ip6tables") };
  };
  const setup = (v4: string, v6 = "-P PREROUTING ACCEPT", chain = true) => {
    writeFileSync(join(dir, "listing-iptables"), v4);
    writeFileSync(join(dir, "listing-ip6tables"), v6);
    if (chain) rmSync(join(dir, "no-chain"), { force: true });
    else writeFileSync(join(dir, "no-chain"), "");
  };
  const v6on = existsSync("/proc/net/if_inet6");

  it("delete removes exactly the rules whose comment is the tag (quoted or bare), nothing else", () => {
    setup(listing4);
    const r = run(firewallRuleSet({ tag: "lab", port: 7860 }).deleteScript);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.v4,
      [
        "*filter",
        '-D DOCKER-USER -s 10.0.0.0/8 -m comment --comment "lab" -j RETURN',
        "-D DOCKER-USER -m comment --comment lab -j DROP",
        "COMMIT",
        "",
      ].join("\n"),
    );
    assert.equal(r.v6, "", "no IPv6 rule tagged: no transaction at all");
    assert.match(r.stdout, /removed 2 IPv4 and 0 IPv6 rules/);
  });

  it("a dot in the tag is literal (l.b never matches lab)", () => {
    setup(listing4);
    const r = run(firewallRuleSet({ tag: "l.b", port: 7860 }).deleteScript);
    assert.match(r.v4, /^\*filter\n-D DOCKER-USER -m comment --comment "l\.b" -j DROP\nCOMMIT\n$/);
  });

  it("create is one transaction per family: delete the tagged rules, insert the new set, COMMIT", () => {
    setup(listing4, '-P PREROUTING ACCEPT\n-A PREROUTING -p tcp -m comment --comment "lab" -j DROP');
    const r = run(
      firewallRuleSet({ tag: "lab", port: 7860, bindAddress: "::", allowlist: ["10.1.0.0/16"] }).createScript,
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.v4.trim().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split(" ").slice(0, 3).join(" ")),
      [
        "*filter",
        "-D DOCKER-USER -s",
        "-D DOCKER-USER -m",
        "-I DOCKER-USER 1",
        "-I DOCKER-USER 1",
        "-I DOCKER-USER 1",
        "COMMIT",
      ],
    );
    if (v6on)
      assert.match(
        r.v6,
        /^\*mangle\n-D PREROUTING -p tcp -m comment --comment "lab" -j DROP\n-I PREROUTING 1 .*-j DROP\n(-I .*\n){1}COMMIT\n$/,
      );
  });

  it("published on IPv4 only, create still removes the tag's old IPv6 rules and inserts none", () => {
    setup(listing4, '-P PREROUTING ACCEPT\n-A PREROUTING -p tcp -m comment --comment "lab" -j DROP');
    const r = run(firewallRuleSet({ tag: "lab", port: 7860, allowlist: ["10.1.0.0/16"] }).createScript);
    assert.equal(r.status, 0, r.stderr);
    if (v6on) assert.match(r.v6, /^\*mangle\n-D PREROUTING -p tcp -m comment --comment "lab" -j DROP\nCOMMIT\n$/);
  });

  it("create with nothing tagged yet has no -D lines", () => {
    setup("-N DOCKER-USER\n-A DOCKER-USER -j RETURN");
    const r = run(firewallRuleSet({ tag: "lab", port: 7860 }).createScript);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.v4, /-D /);
    assert.match(r.v4, /^\*filter\n-I DOCKER-USER 1 /);
  });

  it("create fails (exit 3) with a clear message when DOCKER-USER is missing; delete succeeds", () => {
    setup("", "", false);
    const r = run(firewallRuleSet({ tag: "lab", port: 7860, waitForDockerSeconds: 0 }).createScript);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /DOCKER-USER not found .*dockerd is not running/);
    assert.equal(r.v4, "");
    const d = run(firewallRuleSet({ tag: "lab", port: 7860 }).deleteScript);
    assert.equal(d.status, 0);
    assert.match(d.stderr, /no DOCKER-USER chain/);
  });

  it("nftables create is one nft batch: the table (made when missing), its delete, then the ruleset", () => {
    fake("nft", `cat > "${dir}/nft-batch"`);
    const p = firewallRuleSet({ tag: "lab", port: 7860, allowlist: ["10.1.0.0/16"], backend: "nftables" });
    const r = run(p.createScript);
    assert.equal(r.status, 0, r.stderr);
    const batch = readFileSync(join(dir, "nft-batch"), "utf8");
    assert.equal(batch, `table inet sdwebui_lab\ndelete table inet sdwebui_lab\n${p.rules.nftables!}\n`);
    assert.match(r.stdout, /table inet sdwebui_lab applied/);
  });

  it("status lists only the tagged rules", () => {
    setup(listing4);
    const r = run(firewallRuleSet({ tag: "lab", port: 7860 }).statusScript);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /IPv4 filter DOCKER-USER: 2 rules tagged lab\n/);
    assert.doesNotMatch(r.stdout, /lab2|xlab|l\.b/);
  });
});
