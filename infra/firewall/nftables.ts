// nftables backend: one table of our own, `inet sdwebui_<tag>`, replaced in a single `nft -f`
// transaction. It never touches the ip/ip6 tables that iptables-nft (and so Docker) manage. A drop in
// any base chain is final, so our chains need no particular order relative to Docker's.
import { shellQuote } from "../../lib/shell.js";

export const nftTableName = (tag: string): string => `sdwebui_${tag}`;

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

export function nftScripts(tag: string, ruleset: string): { createScript: string; deleteScript: string; statusScript: string } {
  const table = `inet ${nftTableName(tag)}`;
  const prelude = `set -eu
tag=${shellQuote(tag)}
msg() { printf 'sdwebui-firewall[%s]: %s\\n' "$tag" "$*" >&2; }
command -v nft >/dev/null 2>&1 || { msg "nft not found: install the nftables package, or use the iptables backend"; exit 3; }`;
  // "table X" creates it when missing, so the delete that follows never fails: one idempotent batch.
  const createScript = `#!/bin/sh
# sdwebui firewall (nftables): replace table ${table} atomically.
${prelude}
nft -f - <<'SDWEBUI_RULES' || { msg "nft rejected the ruleset; table ${table} was left unchanged"; exit 5; }
table ${table}
delete table ${table}
${ruleset}
SDWEBUI_RULES
echo "sdwebui-firewall[$tag]: table ${table} applied"
`;
  const deleteScript = `#!/bin/sh
# sdwebui firewall (nftables): remove table ${table}; nothing to remove is success.
${prelude}
nft -f - <<'SDWEBUI_RULES' || { msg "nft could not remove table ${table}"; exit 5; }
table ${table}
delete table ${table}
SDWEBUI_RULES
echo "sdwebui-firewall[$tag]: table ${table} removed"
`;
  const statusScript = `#!/bin/sh
# sdwebui firewall (nftables): show table ${table} with its counters.
${prelude}
if nft list table ${table} 2>/dev/null; then :; else echo "no table ${table}: no rules carry tag $tag"; fi
`;
  return { createScript, deleteScript, statusScript };
}
