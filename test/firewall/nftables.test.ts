// The nftables backend on the real kernel: same container and namespace clients as the iptables test;
// the rules live in an own `inet sdwebui_<tag>` table and never touch iptables-nft's tables.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { firewallRuleSet } from "../../infra/firewall/rules.js";
import { applyFirewall, deleteFirewall, firewallStatus } from "../../tools/firewall/runner.js";
import { dockerStatus } from "../helpers/docker.js";
import type { NetnsClient } from "../helpers/netns.js";
import { startRig, startTarget, type Rig, type Target } from "./target.js";

const hasNft = spawnSync("nft", ["--version"]).status === 0;
const ready = process.getuid?.() === 0 && dockerStatus().ok && hasNft;
if (!ready && process.env.CI) throw new Error("CI=true but the nftables tests need root, a Docker engine and nft");
const skip = ready ? false : "needs root, a Docker engine and nft (run bash .ci/run)";

const tag = `sdwfwnft-${process.pid}`;
const port = 30000 + (process.pid % 10000);
const name = `sdwebui-fwnft-${process.pid}`;
const table = `sdwebui_${tag}`;

const tables = () => execFileSync("nft", ["list", "tables"], { encoding: "utf8" });
/** iptables rules carrying our tag, or DOCKER-USER/PREROUTING rules on our port (Docker's own DNAT is elsewhere). */
const iptablesMentions = () =>
  ["iptables-save", "ip6tables-save"]
    .flatMap((bin) => execFileSync(bin, { encoding: "utf8" }).split("\n"))
    .filter((l) => l.includes(tag) || (/^-A (DOCKER-USER|PREROUTING) /.test(l) && new RegExp(`\\b${port}\\b`).test(l)));

describe("nftables backend on the real kernel with a real container", { skip, timeout: 180_000 }, () => {
  let a: NetnsClient;
  let b: NetnsClient;
  let target: Target;
  let rig: Rig | undefined;
  // The rig publishes on 0.0.0.0 and [::], as a container with bindAddress :: is.
  const plan = (allowlist: string[]) =>
    firewallRuleSet({ tag, port, bindAddress: "::", allowlist, backend: "nftables" });
  const v4 = (ns: NetnsClient) => rig!.v4(ns);
  const v6 = (ns: NetnsClient) => rig!.v6(ns);

  before(async () => {
    rig = await startRig(name, port);
    ({ a, b, target } = rig);
  });
  after(() => {
    try {
      deleteFirewall(plan([]));
    } finally {
      rig?.remove();
    }
  });

  it("allows the listed namespace, denies the other (IPv4 and IPv6), leaves iptables alone", () => {
    assert.deepEqual([v4(a), v4(b), v6(a), v6(b)], ["200", "200", "200", "200"]);
    applyFirewall(plan([a.netV4, a.netV6]));
    assert.equal(v4(a), "200");
    assert.match(v4(b), /^ERR/);
    assert.equal(v6(a), "200");
    assert.match(v6(b), /^ERR/, "an IPv6 client outside the list must not connect");
    assert.deepEqual(iptablesMentions(), [], "nothing written to iptables-nft's tables");
    assert.match(tables(), new RegExp(`table inet ${table}\\n`));
  });

  it("is idempotent and follows an allowlist change atomically", () => {
    applyFirewall(plan([b.netV4, b.netV6]));
    applyFirewall(plan([b.netV4, b.netV6]));
    assert.equal(
      tables()
        .split("\n")
        .filter((l) => l === `table inet ${table}`).length,
      1,
    );
    const listing = firewallStatus(plan([])).stdout;
    assert.equal(listing.match(/ drop comment/g)?.length, 3, "one copy of each rule");
    assert.equal(v4(b), "200");
    assert.match(v4(a), /^ERR/);
    assert.match(v6(a), /^ERR/);
  });

  it("still protects after the container is recreated; an empty allowlist denies everyone", async () => {
    target.remove();
    target = await startTarget(name, port);
    assert.match(v4(a), /^ERR/);
    applyFirewall(plan([]));
    assert.match(v4(b), /^ERR/);
    assert.match(v6(b), /^ERR/);
  });

  it("delete removes only its table (another stack's survives); a second delete succeeds", () => {
    const other = firewallRuleSet({ tag: `${tag}2`, port: port + 1, backend: "nftables" });
    applyFirewall(other);
    try {
      deleteFirewall(plan([]));
      assert.doesNotMatch(tables(), new RegExp(`table inet ${table}\\n`));
      assert.match(tables(), new RegExp(`table inet ${table}2\\n`));
      deleteFirewall(plan([]));
      assert.match(firewallStatus(plan([])).stdout, /no table inet/);
    } finally {
      deleteFirewall(other);
    }
    assert.deepEqual([v4(a), v4(b), v6(a), v6(b)], ["200", "200", "200", "200"], "both connect again");
  });
});
