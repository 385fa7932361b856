// nftables backend: one table of our own, `inet sdwebui_<tag>`, replaced in a single `nft -f`
// transaction. It never touches the ip/ip6 tables that iptables-nft (and so Docker) manage. A drop in
// any base chain is final, so our chains need no particular order relative to Docker's.
import { shScript } from "../../lib/sh-script.js";

const nftTableName = (tag: string): string => `sdwebui_${tag}`;

function set(name: string, type: string, elements: string[]): string {
  const els = elements.length ? ` elements = { ${elements.join(", ")} };` : "";
  return `  set ${name} { type ${type}; flags interval;${els} }`;
}

/** The full table definition. An empty set matches nothing, so `saddr != @set` drops every client. */
export function nftRuleset(tag: string, port: number, v4: string[], v6: string[], ipv6?: { dest?: string }): string {
  const dest6 = ipv6?.dest ? `ip6 daddr ${ipv6.dest} ` : "";
  return [
    `table inet ${nftTableName(tag)} {`,
    set("allow4", "ipv4_addr", v4),
    set("allow6", "ipv6_addr", v6),
    // IPv4: published ports are DNATed by Docker; match the port the client dialled.
    `  chain forward {`,
    `    type filter hook forward priority filter - 10; policy accept;`,
    `    meta nfproto ipv4 meta l4proto tcp ct direction original ct status dnat ct original proto-dst ${port} ip saddr != @allow4 counter drop comment "${tag}"`,
    `    meta nfproto ipv6 meta l4proto tcp ct direction original ct status dnat ct original proto-dst ${port} ip6 saddr != @allow6 counter drop comment "${tag}"`,
    `  }`,
    // IPv6 without DNAT (docker-proxy on [::]:port): filter before routing, host's own traffic (lo)
    // excepted; only when the port is published on IPv6, or it would catch a host service on that port.
    ...(ipv6
      ? [
          `  chain prerouting {`,
          `    type filter hook prerouting priority mangle - 10; policy accept;`,
          `    meta nfproto ipv6 iifname != "lo" ${dest6}tcp dport ${port} ct direction original fib daddr type local ip6 saddr != @allow6 counter drop comment "${tag}"`,
          `  }`,
        ]
      : []),
    `}`,
  ].join("\n");
}

/** nftables.sh for each action; the ruleset replaces the table in one batch. */
export function nftScripts(
  tag: string,
  ruleset: string,
): { createScript: string; deleteScript: string; statusScript: string } {
  const name = nftTableName(tag);
  // A file of its own when saved (firewall plan > file), so it starts with its interpreter.
  const script = (args: string[]) => `#!/bin/sh\n${shScript(__dirname, "nftables.sh", args)}`;
  return {
    createScript: script(["create", tag, name, ruleset]),
    deleteScript: script(["delete", tag, name]),
    statusScript: script(["status", tag, name]),
  };
}
