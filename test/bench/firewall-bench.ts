// (e) Firewall apply and delete time for 1 and 50 allowlist CIDRs, on the real kernel: the plan's own
// scripts (infra/firewall/rules.ts firewallRuleSet) run by tools/firewall/runner.ts, under a unique tag,
// removed again whatever happens. iptables (DOCKER-USER + ip6tables) and, when nft exists, nftables.
import { spawnSync } from "node:child_process";
import { firewallRuleSet } from "../../infra/firewall/rules.js";
import type { FirewallRuleSet } from "../../infra/firewall/rules.js";
import { applyFirewall, deleteFirewall } from "../../tools/firewall/runner.js";
import { median, round, Skip } from "./stats.js";
import type { Section } from "./stats.js";

/** 50 networks from the benchmarking range 198.18.0.0/15 (RFC 2544): never routed anywhere. */
const cidrs = (n: number): string[] => Array.from({ length: n }, (_, i) => `198.18.${i}.0/24`);

const has = (cmd: string, args: string[]): boolean => {
  const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 10_000 });
  return !r.error && r.status === 0;
};

// A port far from the WebUI's, unique per run, so the rules can never match real traffic.
const PORT = 64000 + (process.pid % 1000);

export function firewallSection(runs: number, log: (l: string) => void): Section {
  if (process.getuid?.() !== 0) throw new Skip("needs root for iptables/nft (run as root, e.g. in bash .ci/run)");
  if (!has("iptables", ["--version"])) throw new Skip("iptables is not installed");
  if (!has("iptables", ["-n", "-L", "DOCKER-USER"]))
    throw new Skip("the DOCKER-USER chain does not exist (start dockerd with its iptables integration)");
  const backends: ("iptables" | "nftables")[] = has("nft", ["--version"]) ? ["iptables", "nftables"] : ["iptables"];
  const rows: string[][] = [["backend", "CIDRs", "apply (ms)", "delete (ms)"]];
  const figures: Record<string, unknown> = {};
  let worst = 0;
  for (const backend of backends)
    for (const n of [1, 50]) {
      const tag = `bench-${process.pid}-${backend.slice(0, 3)}-${n}`;
      const plan: FirewallRuleSet = firewallRuleSet({
        tag,
        port: PORT,
        allowlist: cidrs(n),
        backend,
        waitForDockerSeconds: 0,
      });
      log(`bench: (e) firewall ${backend}, ${n} CIDR(s)`);
      const apply: number[] = [];
      const del: number[] = [];
      try {
        for (let i = 0; i < runs; i++) {
          apply.push(applyFirewall(plan, { timeoutMs: 30_000 }).ms);
          del.push(deleteFirewall(plan, { timeoutMs: 30_000 }).ms);
        }
      } finally {
        // Whatever failed above: leave no rule with our tag behind.
        try {
          deleteFirewall(plan, { timeoutMs: 30_000 });
        } catch (e) {
          log(`bench: cleanup of firewall tag ${tag} failed: ${(e as Error).message}`);
        }
      }
      const a = median(apply);
      const d = median(del);
      worst = Math.max(worst, a, d);
      figures[`${backend}_${n}`] = { applyMs: round(a, 1), deleteMs: round(d, 1) };
      rows.push([backend, String(n), String(round(a, 1)), String(round(d, 1))]);
    }
  return {
    id: "firewall",
    title: "Firewall apply and delete time for 1 and 50 CIDRs",
    status: "ok",
    runs,
    target: { text: "none in the issue; set here: every apply and delete under 1 s", met: worst < 1000 },
    figures,
    table: rows,
    notes: [
      `Allowlists from 198.18.0.0/15 (RFC 2544), port ${PORT}, a tag unique to the run; each run applies then deletes, and a final delete runs in any case.`,
      "iptables: one iptables-restore and one ip6tables-restore transaction (DOCKER-USER and mangle), plus the script's checks; nftables: one nft -f transaction on the table of its own. Times include starting sh and the tools.",
    ],
  };
}
