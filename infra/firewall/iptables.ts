// iptables backend: the rules, and iptables.sh with its arguments for each action. IPv4 rules sit at the
// top of DOCKER-USER and match the port the client dialled (conntrack original destination), so they hold
// after Docker's DNAT.
// IPv6 (Docker 20.10 has no IPv6 DOCKER-USER) is filtered in mangle/PREROUTING, before any DNAT or
// docker-proxy sees the packet. Every rule carries the tag as its comment; deletion matches it exactly.
import { shScript } from "../../lib/sh-script.js";

export interface IptablesRule {
  family: 4 | 6;
  table: "filter" | "mangle";
  chain: "DOCKER-USER" | "PREROUTING";
  /** Rule specification without the -A/-I/-D part, e.g. ["-s","10.0.0.0/24","-p","tcp",...]. */
  args: string[];
}

/**
 * The rules in the order they end up at the top of each chain. `ipv6` is set only when the port is
 * published on IPv6 (`dest`: the address, absent for ::); otherwise there are no IPv6 rules, which would
 * otherwise catch a host service of its own on that port.
 */
export function iptablesRules(
  tag: string,
  port: number,
  v4: string[],
  v6: string[],
  ipv6?: { dest?: string },
): IptablesRule[] {
  const p = String(port);
  const c = ["-m", "comment", "--comment", tag];
  const dnat = ["-p", "tcp", "-m", "conntrack", "--ctstate", "DNAT", "--ctorigdstport", p, "--ctdir", "ORIGINAL"];
  const r4 = (args: string[]): IptablesRule => ({ family: 4, table: "filter", chain: "DOCKER-USER", args });
  const r6 = (args: string[]): IptablesRule => ({ family: 6, table: "mangle", chain: "PREROUTING", args });
  // ctdir ORIGINAL: only client->host packets, never replies to the host's own outgoing connections.
  const local6 = [
    ...(ipv6?.dest ? ["-d", `${ipv6.dest}/128`] : []),
    "-p",
    "tcp",
    "--dport",
    p,
    "-m",
    "conntrack",
    "--ctdir",
    "ORIGINAL",
    "-m",
    "addrtype",
    "--dst-type",
    "LOCAL",
  ];
  const rules6 = [
    r6(["-i", "lo", ...local6, ...c, "-j", "RETURN"]),
    ...v6.map((cidr) => r6(["-s", cidr, ...local6, ...c, "-j", "RETURN"])),
    r6([...local6, ...c, "-j", "DROP"]),
  ];
  return [
    r4([
      "-p",
      "tcp",
      "-m",
      "conntrack",
      "--ctstate",
      "RELATED,ESTABLISHED",
      "--ctorigdstport",
      p,
      "--ctdir",
      "REPLY",
      ...c,
      "-j",
      "RETURN",
    ]),
    ...v4.map((cidr) => r4(["-s", cidr, ...dnat, ...c, "-j", "RETURN"])),
    r4([...dnat, ...c, "-j", "DROP"]),
    ...(ipv6 ? rules6 : []),
  ];
}

/** iptables-restore lines that insert the rules so they end up in `rules` order (last rule first). */
function insertLines(rules: IptablesRule[]): string {
  return [...rules]
    .reverse()
    .map((r) => `-I ${r.chain} 1 ${r.args.join(" ")}`)
    .join("\n");
}

export function iptablesScripts(
  tag: string,
  rules: IptablesRule[],
  waitSeconds: number,
): { createScript: string; deleteScript: string; statusScript: string } {
  const v4 = rules.filter((r) => r.family === 4);
  const v6 = rules.filter((r) => r.family === 6);
  const port = v4[0]?.args[v4[0].args.indexOf("--ctorigdstport") + 1] ?? "?";
  // A file of its own when saved (firewall plan > file), so it starts with its interpreter.
  const script = (args: (string | number)[]) => `#!/bin/sh\n${shScript(__dirname, "iptables.sh", args)}`;
  return {
    createScript: script(["create", tag, port, waitSeconds, insertLines(v4), insertLines(v6)]),
    deleteScript: script(["delete", tag]),
    statusScript: script(["status", tag]),
  };
}
