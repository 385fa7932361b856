// The pure plan: validation, normalisation, preview wording, rule order, nft ruleset. No kernel needed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCidr } from "../../infra/firewall/cidr.js";
import { FirewallInputSchema, firewallRuleSet, parseFirewallInput } from "../../infra/firewall/rules.js";

describe("parseCidr", () => {
  const ok: [string, string][] = [
    ["10.1.2.0/24", "10.1.2.0/24"],
    ["10.1.2.3", "10.1.2.3/32"],
    [" 192.168.0.0/16 ", "192.168.0.0/16"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["FD00:0:0:1::/64", "fd00:0:0:1::/64"],
    ["2001:0db8:0000:0000:0001:0000:0000:0000/112", "2001:db8:0:0:1::/112"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"],
    ["::/0", "::/0"],
    ["::1", "::1/128"],
    ["::ffff:10.0.0.0/104", "::ffff:a00:0/104"],
  ];
  for (const [raw, want] of ok)
    it(`normalises ${JSON.stringify(raw)} to ${want}`, () => assert.equal(parseCidr(raw).text, want));

  it("rejects host bits set, naming the network and the single-host reading", () => {
    assert.throws(
      () => parseCidr("10.0.0.5/24"),
      /host bits set: write the network 10\.0\.0\.0\/24, or 10\.0\.0\.5\/32/,
    );
    assert.throws(() => parseCidr("fd00::1/64"), /write the network fd00::\/64, or fd00::1\/128/);
  });

  const bad = [
    "",
    " ",
    "10.0.0.256/24",
    "10.0.0.0/33",
    "fd00::/129",
    "010.0.0.0/8",
    "10.0.0.0/024",
    "10.0.0/24",
    "fe80::1%eth0/64",
    "10.0.0.0/24; rm -rf /",
    "$(id)",
    "10.0.0.0/24 10.1.0.0/24",
    "10.0.0.0/-1",
    "localhost",
  ];
  for (const raw of bad)
    it(`rejects ${JSON.stringify(raw)}`, () => assert.throws(() => parseCidr(raw), /192\.168\.1\.0\/24|prefix length/));
});

describe("FirewallInputSchema / parseFirewallInput", () => {
  it("accepts a minimal input and fills defaults", () => {
    const s = parseFirewallInput({ tag: "sdwebui-lab", port: 7860 });
    assert.deepEqual(s, {
      tag: "sdwebui-lab",
      port: 7860,
      bindAddress: "0.0.0.0",
      allowlist: [],
      backend: "iptables",
      waitForDockerSeconds: 30,
    });
  });

  const badTags = ["", "-lab", ".lab", "a b", "a'b", "lab;id", "$(id)", "lab\n", "x".repeat(129), "läb"];
  for (const tag of badTags) {
    it(`rejects tag ${JSON.stringify(tag)} naming the field and the fix`, () =>
      assert.throws(
        () => parseFirewallInput({ tag, port: 7860 }),
        /firewall\.tag: use 1-128 characters from A-Z a-z 0-9 _ \. -/,
      ));
  }
  it("accepts a 128-character tag with every allowed character", () =>
    assert.equal(parseFirewallInput({ tag: `A9_.-${"x".repeat(123)}`, port: 1 }).tag.length, 128));

  for (const port of [0, 65536, 78.5, -1, Number.NaN]) {
    it(`rejects port ${port}`, () =>
      assert.throws(() => parseFirewallInput({ tag: "t", port }), /firewall\.port: must be/));
  }
  it("rejects a port given as a string", () =>
    assert.throws(() => parseFirewallInput({ tag: "t", port: "7860" }), /firewall\.port/));
  it("rejects an unknown backend", () =>
    assert.throws(
      () => parseFirewallInput({ tag: "t", port: 1, backend: "ufw" }),
      /firewall\.backend: must be "iptables"/,
    ));
  it("names the list index of a bad CIDR", () =>
    assert.throws(
      () => parseFirewallInput({ tag: "t", port: 1, allowlist: ["10.0.0.0/8", "10.0.0.1/8"] }),
      /firewall\.allowlist\.1: "10\.0\.0\.1\/8" has host bits set/,
    ));
  it("reports every bad field at once", () =>
    assert.throws(
      () => parseFirewallInput({ tag: "", port: 0 }),
      (e: Error) => /firewall\.tag/.test(e.message) && /firewall\.port/.test(e.message),
    ));
  it("normalises the allowlist in the schema output", () =>
    assert.deepEqual(FirewallInputSchema.parse({ tag: "t", port: 1, allowlist: ["FD00::/8"] }).allowlist, [
      "fd00::/8",
    ]));
  it("firewallRuleSet validates again at its own boundary", () =>
    assert.throws(
      () => firewallRuleSet({ tag: "ok", port: 1, allowlist: ["10.0.0.0/24'; reboot; '"] }),
      /firewall\.allowlist\.0/,
    ));
});

describe("firewallRuleSet (iptables)", () => {
  it("an empty allowlist means deny every remote client, and the preview says so", () => {
    const p = firewallRuleSet({ tag: "lab", port: 7860, allowlist: [] });
    assert.match(p.preview, /deny every remote client to port 7860 \(empty allowlist\)/);
    assert.doesNotMatch(p.preview, /open|allow [0-9]/);
    const v4 = p.rules.iptables.filter((r) => r.family === 4).map((r) => r.args.at(-1));
    assert.deepEqual(v4, ["RETURN", "DROP"], "only the established-replies return and the drop");
    assert.deepEqual(p.warnings, []);
  });

  it("orders rules: established replies, one RETURN per allowed network, then DROP; IPv6 likewise", () => {
    const p = firewallRuleSet({
      tag: "lab",
      port: 7860,
      bindAddress: "::",
      allowlist: ["10.1.0.0/16", "fd00:1::/64", "10.2.0.0/16", "10.1.0.0/16"],
    });
    const lines = p.rules.iptables.map((r) => `${r.family} ${r.table}/${r.chain} ${r.args.join(" ")}`);
    assert.deepEqual(lines, [
      "4 filter/DOCKER-USER -p tcp -m conntrack --ctstate RELATED,ESTABLISHED --ctorigdstport 7860 --ctdir REPLY -m comment --comment lab -j RETURN",
      "4 filter/DOCKER-USER -s 10.1.0.0/16 -p tcp -m conntrack --ctstate DNAT --ctorigdstport 7860 --ctdir ORIGINAL -m comment --comment lab -j RETURN",
      "4 filter/DOCKER-USER -s 10.2.0.0/16 -p tcp -m conntrack --ctstate DNAT --ctorigdstport 7860 --ctdir ORIGINAL -m comment --comment lab -j RETURN",
      "4 filter/DOCKER-USER -p tcp -m conntrack --ctstate DNAT --ctorigdstport 7860 --ctdir ORIGINAL -m comment --comment lab -j DROP",
      "6 mangle/PREROUTING -i lo -p tcp --dport 7860 -m conntrack --ctdir ORIGINAL -m addrtype --dst-type LOCAL -m comment --comment lab -j RETURN",
      "6 mangle/PREROUTING -s fd00:1::/64 -p tcp --dport 7860 -m conntrack --ctdir ORIGINAL -m addrtype --dst-type LOCAL -m comment --comment lab -j RETURN",
      "6 mangle/PREROUTING -p tcp --dport 7860 -m conntrack --ctdir ORIGINAL -m addrtype --dst-type LOCAL -m comment --comment lab -j DROP",
    ]);
    assert.match(
      p.preview,
      /IPv4: allow 10\.1\.0\.0\/16, 10\.2\.0\.0\/16 to port 7860; deny every other remote client/,
    );
    assert.match(p.preview, /IPv6: allow fd00:1::\/64/);
    assert.match(p.preview, /host itself .* never filtered/);
  });

  it("published on IPv4 only (the default): no IPv6 rule, so a host service on that port over IPv6 is untouched", () => {
    for (const backend of ["iptables", "nftables"] as const) {
      const p = firewallRuleSet({ tag: "lab", port: 22, backend, allowlist: ["10.1.0.0/16", "fd00:1::/64"] });
      assert.deepEqual(
        p.rules.iptables.filter((r) => r.family === 6),
        [],
      );
      if (backend === "nftables") assert.doesNotMatch(p.rules.nftables!, /dport 22/);
      assert.match(p.preview, /IPv6: port 22 is not published on IPv6 .*host services on that port are untouched/);
    }
  });

  it("published on one IPv6 address: the IPv6 rules match that address only", () => {
    const p = firewallRuleSet({ tag: "lab", port: 7860, bindAddress: "fd00:1::5", allowlist: [] });
    const six = p.rules.iptables.filter((r) => r.family === 6).map((r) => r.args.join(" "));
    assert.ok(six.length === 2 && six.every((a) => a.includes("-d fd00:1::5/128")), six.join("\n"));
    const nft = firewallRuleSet({
      tag: "lab",
      port: 7860,
      bindAddress: "fd00:1::5",
      allowlist: [],
      backend: "nftables",
    }).rules.nftables!;
    assert.match(nft, /ip6 daddr fd00:1::5 tcp dport 7860/);
  });

  it("inserts last rule first, so the set lands at the top of DOCKER-USER in order", () => {
    const p = firewallRuleSet({ tag: "lab", port: 7860, allowlist: ["10.1.0.0/16"] });
    // The insert lines are one argument of iptables.sh (a line each); the first shares the `set -- …` line.
    const inserts = p.createScript
      .split("\n")
      .map((l) => l.replace(/^set -- .*'(?=-I )/, ""))
      .filter((l) => l.startsWith("-I DOCKER-USER 1 "));
    assert.equal(inserts.length, 3);
    assert.match(inserts[0]!, /-j DROP$/);
    assert.match(inserts[2]!, /RELATED,ESTABLISHED/);
  });

  it("an IPv6-only allowlist still denies every IPv4 client, and says so", () => {
    const p = firewallRuleSet({ tag: "lab", port: 7860, allowlist: ["fd00:1::/64"] });
    assert.match(p.preview, /IPv4: deny every remote client to port 7860 \(no IPv4 networks in the allowlist\)/);
  });

  it("warns when the allowlist opens the port to everyone", () => {
    assert.match(
      firewallRuleSet({ tag: "lab", port: 1, allowlist: ["0.0.0.0/0"] }).warnings.join(),
      /0\.0\.0\.0\/0.*every client/,
    );
    assert.match(firewallRuleSet({ tag: "lab", port: 1, allowlist: ["::/0"] }).warnings.join(), /::\/0/);
  });

  it("uses the tag bare in the script (validated) and the DOCKER-USER wait limit", () => {
    const p = firewallRuleSet({ tag: "sdwebui-a.b_c", port: 7860, waitForDockerSeconds: 7 });
    assert.match(p.createScript, /^set -- create sdwebui-a\.b_c 7860 7 /m);
    assert.match(p.deleteScript, /succeeds|nothing to remove/);
  });
});

describe("firewallRuleSet (nftables, none)", () => {
  it("nftables: an own inet table with sets, replaced in one nft -f batch", () => {
    const p = firewallRuleSet({ tag: "lab", port: 7860, allowlist: ["10.1.0.0/16", "fd00::/8"], backend: "nftables" });
    assert.match(p.rules.nftables!, /^table inet sdwebui_lab \{/);
    assert.match(
      p.rules.nftables!,
      /set allow4 \{ type ipv4_addr; flags interval; elements = \{ 10\.1\.0\.0\/16 \}; \}/,
    );
    assert.match(p.rules.nftables!, /set allow6 \{ type ipv6_addr; flags interval; elements = \{ fd00::\/8 \}; \}/);
    assert.match(p.rules.nftables!, /ct original proto-dst 7860 ip saddr != @allow4 counter drop/);
    assert.match(p.createScript, /^set -- create lab sdwebui_lab 'table inet sdwebui_lab \{$/m);
    assert.doesNotMatch(p.createScript + p.deleteScript, /flush ruleset|table ip filter/);
    assert.deepEqual(p.rules.iptables, []);
  });

  it("nftables with an empty allowlist declares empty sets (so != @set drops everyone)", () => {
    const p = firewallRuleSet({ tag: "lab", port: 7860, backend: "nftables" });
    assert.match(p.rules.nftables!, /set allow4 \{ type ipv4_addr; flags interval; \}/);
    assert.match(p.preview, /\(empty allowlist\)/);
  });

  it("none: no scripts and a warning that the port is open", () => {
    const p = firewallRuleSet({ tag: "lab", port: 7860, allowlist: ["10.0.0.0/8"], backend: "none" });
    assert.equal(p.createScript + p.deleteScript + p.statusScript, "");
    assert.match(p.warnings.join(), /backend "none": no rules are applied, port 7860 is reachable/);
    assert.match(p.preview, /open to every client/);
  });
});
