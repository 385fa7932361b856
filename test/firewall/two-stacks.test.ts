// Two stacks on one host, on real iptables and nftables: each stack's firewall tag comes from the
// program's own deployment plan (project, stack, port), so stacks whose names share a long prefix (the
// old tag was the first 40 characters of the container name) never share a tag, and one stack's deploy
// or destroy leaves the other's rules alone. Also: published on IPv4 only (the default bindAddress),
// no IPv6 rule exists, so a service listening on that port over IPv6 is not cut off.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { hostLayouts } from "../../infra/docker/host-layout.js";
import { firewallRuleSet } from "../../infra/firewall/rules.js";
import { applyFirewall, deleteFirewall } from "../../tools/firewall/runner.js";
import { dockerStatus } from "../helpers/docker.js";
import type { NetnsClient } from "../helpers/netns.js";
import { startRig, type Rig } from "./target.js";

const hasNft = spawnSync("nft", ["--version"]).status === 0;
const ready = process.getuid?.() === 0 && dockerStatus().ok && hasNft;
if (!ready && process.env.CI)
  throw new Error("CI=true but the two-stack firewall tests need root, a Docker engine and nft");
const skip = ready ? false : "needs root, a Docker engine and nft (run bash .ci/run)";

const port = 40000 + (process.pid % 10000);
// 45 shared characters: the old tags (container name cut at 40) were equal.
const shared = `ci-gh-${process.pid}-1-e2e-matrix-profile-universonic-`.padEnd(45, "x");
const stacks = [`${shared}-a`, `${shared}-b`];
const tagOf = (stack: string, hostPort: number) =>
  hostLayouts(
    {
      hosts: [],
      dockerHost: "unix:///var/run/docker.sock",
      gpus: "none",
      hostPort,
      outputsDir: "/srv/sd/outputs",
      bindAddress: "0.0.0.0",
    } as Parameters<typeof hostLayouts>[0],
    stack,
  )[0]!.instances[0]!.firewallTag;

describe("two stacks on one host", { skip, timeout: 240_000 }, () => {
  let rig: Rig | undefined;
  let a: NetnsClient;
  let b: NetnsClient;
  // Stack A's port is the rig's published port; stack B has the next one.
  const tags = [tagOf(stacks[0]!, port), tagOf(stacks[1]!, port + 1)];
  const plans = (backend: "iptables" | "nftables", allowA: string[]) => [
    firewallRuleSet({ tag: tags[0]!, port, backend, allowlist: allowA }),
    firewallRuleSet({ tag: tags[1]!, port: port + 1, backend, allowlist: ["10.231.250.0/24"] }),
  ];
  const iptablesTagged = (t: string) =>
    execFileSync("iptables", ["-t", "filter", "-S", "DOCKER-USER"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes(`"${t}"`) || l.includes(` ${t} `));

  before(async () => {
    rig = await startRig(`sdwebui-fw2-${process.pid}`, port);
    ({ a, b } = rig);
  });
  after(() => {
    try {
      for (const backend of ["iptables", "nftables"] as const) for (const p of plans(backend, [])) deleteFirewall(p);
    } finally {
      rig?.remove();
    }
  });

  it("the stacks' tags differ although their names share 45 characters", () => {
    assert.notEqual(tags[0], tags[1]);
    assert.equal(`sdwebui-${stacks[0]}`.slice(0, 40), `sdwebui-${stacks[1]}`.slice(0, 40), "the old tags were equal");
  });

  for (const backend of ["iptables", "nftables"] as const) {
    it(`${backend}: destroying one stack's rules leaves the other's in force`, () => {
      const [planA, planB] = plans(backend, [a.netV4]);
      applyFirewall(planA!);
      applyFirewall(planB!);
      assert.equal(rig!.v4(a), "200");
      assert.match(rig!.v4(b), /^ERR/, "stack A's rules hold");
      deleteFirewall(planB!);
      assert.match(rig!.v4(b), /^ERR/, "stack B's destroy did not open stack A's port");
      applyFirewall(planB!);
      deleteFirewall(planA!);
      assert.equal(rig!.v4(b), "200", "stack A's rules are gone with it");
      if (backend === "iptables")
        assert.equal(iptablesTagged(tags[1]!).length, 3, "stack B's rules survive A's destroy");
      else
        assert.match(
          execFileSync("nft", ["list", "tables"], { encoding: "utf8" }),
          new RegExp(`sdwebui_${tags[1]!.replaceAll(".", "\\.")}`),
        );
      deleteFirewall(planB!);
    });

    it(`${backend}: published on IPv4 only, a listener on the port over IPv6 is not cut off`, () => {
      const [planA] = plans(backend, [a.netV4]);
      applyFirewall(planA!);
      try {
        assert.match(rig!.v4(b), /^ERR/, "IPv4 is filtered");
        // The rig also listens on [::]:port, as a host service of its own would.
        assert.equal(rig!.v6(b), "200", "no IPv6 rule catches the IPv6 listener");
      } finally {
        deleteFirewall(planA!);
      }
    });
  }
});
