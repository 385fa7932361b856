// The iptables backend on the real kernel: a container publishing a port, two namespaces as clients
// (A and B), rules applied and removed with the plan's own scripts. Traffic goes only to the host end
// of each namespace's veth and to loopback.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { firewallRuleSet, type FirewallInput } from "../../infra/firewall/rules.js";
import { applyFirewall, deleteFirewall } from "../../tools/firewall/runner.js";
import { dockerStatus } from "../helpers/docker.js";
import { createNetns, type NetnsClient } from "../helpers/netns.js";
import { ping, startRig, startTarget, type Rig, type Target } from "./target.js";

const ready = process.getuid?.() === 0 && dockerStatus().ok;
if (!ready && process.env.CI) throw new Error("CI=true but the firewall tests need root and a Docker engine");
const skip = ready ? false : "needs root and a Docker engine (run bash .ci/run)";

const tag = `sdwfwtest-${process.pid}`;
const port = 20000 + (process.pid % 10000);
const name = `sdwebui-fwtest-${process.pid}`;

/** Rules carrying exactly `t` (quoted or bare comment), as iptables -S prints them. */
function tagged(bin: "iptables" | "ip6tables", t: string): string[] {
  const [table, chain] = bin === "iptables" ? ["filter", "DOCKER-USER"] : ["mangle", "PREROUTING"];
  return execFileSync(bin, ["-t", table, "-S", chain], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(`--comment "${t}" `) || l.includes(`--comment ${t} `));
}

// Inside a namespace: one keep-alive connection; every stdin line sends one more request on it.
const KEEPALIVE = `
const s = require("net").connect({ host: process.argv[1], port: Number(process.argv[2]) });
const req = "GET /internal/ping HTTP/1.1\\r\\nHost: t\\r\\nConnection: keep-alive\\r\\n\\r\\n";
s.on("connect", () => s.write(req));
s.on("data", (d) => { for (const _ of String(d).match(/HTTP\\/1\\.1 200/g) || []) console.log("RESP"); });
s.on("error", (e) => console.log("ERR " + e.code));
process.stdin.on("data", () => s.write(req));
setTimeout(() => process.exit(0), 20000);
`;

/** Lines the keep-alive client printed, polled until `count` RESP lines or `ms` elapse. */
async function waitLines(out: string[], count: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  while (Date.now() < end && out.filter((l) => l === "RESP").length < count)
    await new Promise((r) => setTimeout(r, 50));
  return out.filter((l) => l === "RESP").length;
}

describe("iptables backend on real iptables with a real container", { skip, timeout: 240_000 }, () => {
  let a: NetnsClient;
  let b: NetnsClient;
  let target: Target;
  let rig: Rig | undefined;
  // The rig publishes on 0.0.0.0 and [::], as a container with bindAddress :: is.
  const plan = (allowlist: string[], extra: Partial<FirewallInput> = {}) =>
    firewallRuleSet({ tag, port, bindAddress: "::", allowlist, ...extra });
  const v4 = (ns: NetnsClient) => rig!.v4(ns);
  const v6 = (ns: NetnsClient) => rig!.v6(ns);

  before(async () => {
    rig = await startRig(name, port);
    ({ a, b, target } = rig);
  });
  after(() => {
    try {
      deleteFirewall(plan([]));
      deleteFirewall(firewallRuleSet({ tag: `${tag}2`, port: port + 1 }));
    } finally {
      rig?.remove();
    }
  });

  it("before any rule both namespaces reach the port over IPv4 and IPv6", () => {
    assert.deepEqual([v4(a), v4(b), v6(a), v6(b)], ["200", "200", "200", "200"]);
  });

  it("after apply the allowed namespace gets 200 and the other cannot connect", () => {
    applyFirewall(plan([a.netV4, a.netV6]));
    assert.equal(v4(a), "200");
    assert.match(v4(b), /^ERR/);
    assert.equal(v6(a), "200");
    assert.match(v6(b), /^ERR/, "an IPv6 client outside the list must not connect");
  });

  it("traffic from the host itself is not filtered (documented)", async () => {
    assert.equal(await ping(port), 200);
  });

  it("is idempotent: applying twice leaves one copy of each rule", () => {
    const before4 = execFileSync("iptables", ["-S", "DOCKER-USER"], { encoding: "utf8" }).split("\n").length;
    applyFirewall(plan([a.netV4, a.netV6]));
    applyFirewall(plan([a.netV4, a.netV6]));
    assert.equal(tagged("iptables", tag).length, 3);
    assert.equal(tagged("ip6tables", tag).length, 3);
    assert.equal(execFileSync("iptables", ["-S", "DOCKER-USER"], { encoding: "utf8" }).split("\n").length, before4);
    assert.match(tagged("iptables", tag)[0]!, /RELATED,ESTABLISHED/, "rules sit at the top, established first");
  });

  it("follows an allowlist change (A out, B in) in one transaction", () => {
    applyFirewall(plan([b.netV4, b.netV6]));
    assert.equal(v4(b), "200");
    assert.match(v4(a), /^ERR/);
    assert.equal(v6(b), "200");
    assert.match(v6(a), /^ERR/);
  });

  it("a client removed from the list loses the connection it already has", async () => {
    applyFirewall(plan([a.netV4, b.netV4]));
    const client = spawn("ip", ["netns", "exec", a.name, process.execPath, "-e", KEEPALIVE, a.hostV4, String(port)]);
    const out: string[] = [];
    client.stdout.on("data", (d: Buffer) => out.push(...d.toString().split("\n").filter(Boolean)));
    try {
      assert.equal(await waitLines(out, 1, 5000), 1, "first request answered");
      client.stdin.write("\n");
      assert.equal(await waitLines(out, 2, 5000), 2, "second request on the same connection answered");
      applyFirewall(plan([b.netV4]));
      client.stdin.write("\n");
      assert.equal(await waitLines(out, 3, 1500), 2, "after removal from the list the open connection gets nothing");
    } finally {
      client.kill();
    }
  });

  it("still protects after the container is removed and recreated", async () => {
    target.remove();
    target = await startTarget(name, port);
    assert.equal(v4(b), "200");
    assert.match(v4(a), /^ERR/);
  });

  it("an empty allowlist denies every remote client", () => {
    applyFirewall(plan([]));
    assert.match(v4(a), /^ERR/);
    assert.match(v4(b), /^ERR/);
    assert.match(v6(b), /^ERR/);
  });

  it("deletes exactly its own rules; a second delete succeeds with nothing to remove", () => {
    const other = firewallRuleSet({
      tag: `${tag}2`,
      port: port + 1,
      bindAddress: "::",
      allowlist: ["10.231.250.0/24"],
    });
    applyFirewall(other);
    const unrelated = ["-s", "192.0.2.254/32", "-p", "udp", "--dport", "9", "-j", "RETURN"];
    execFileSync("iptables", ["-I", "DOCKER-USER", "1", ...unrelated]);
    try {
      applyFirewall(plan([a.netV4, a.netV6]));
      const out = deleteFirewall(plan([a.netV4])).stdout;
      assert.match(out, /removed 3 IPv4 and 3 IPv6 rules/);
      assert.equal(tagged("iptables", tag).length, 0);
      assert.equal(tagged("ip6tables", tag).length, 0);
      assert.equal(tagged("iptables", `${tag}2`).length, 3, "the other stack's rules survive");
      assert.equal(tagged("ip6tables", `${tag}2`).length, 2, "its IPv6 lo-allow and drop");
      assert.equal(spawnSync("iptables", ["-C", "DOCKER-USER", ...unrelated]).status, 0, "the unrelated rule survives");
      assert.match(deleteFirewall(plan([])).stdout, /removed 0 IPv4 and 0 IPv6 rules/);
    } finally {
      deleteFirewall(other);
      spawnSync("iptables", ["-D", "DOCKER-USER", ...unrelated]);
    }
    assert.deepEqual([v4(a), v4(b), v6(a), v6(b)], ["200", "200", "200", "200"], "both connect again");
  });

  it("applies and removes 50 CIDRs as one transaction each", (t) => {
    const many = Array.from({ length: 50 }, (_, i) => `198.18.${i}.0/24`); // benchmark range, never routed here
    const applied = applyFirewall(plan([...many, a.netV4]));
    assert.equal(tagged("iptables", tag).length, 53);
    assert.equal(v4(a), "200");
    assert.match(v4(b), /^ERR/);
    const removed = deleteFirewall(plan([]));
    assert.equal(tagged("iptables", tag).length, 0);
    t.diagnostic(`51 CIDRs: apply ${applied.ms.toFixed(0)} ms, delete ${removed.ms.toFixed(0)} ms`);
  });

  it("fails clearly (bounded wait) when DOCKER-USER does not exist; delete there succeeds", () => {
    // A fresh namespace has its own empty iptables: exactly a host where dockerd has not started.
    const bare = createNetns();
    try {
      const wrap = ["ip", "netns", "exec", bare.name];
      const start = Date.now();
      assert.throws(
        () => applyFirewall(plan([], { waitForDockerSeconds: 2 }), { wrap, timeoutMs: 20_000 }),
        (e: Error) => {
          assert.match(e.message, /exited 3/);
          assert.match(e.message, /waiting for dockerd to create DOCKER-USER \(0 s of 2 s\)/);
          assert.match(e.message, /DOCKER-USER not found .* after 2 s: dockerd is not running/);
          return true;
        },
      );
      assert.ok(Date.now() - start < 10_000);
      assert.match(deleteFirewall(plan([]), { wrap }).stderr, /no DOCKER-USER chain/);
    } finally {
      bare.remove();
    }
  });
});
