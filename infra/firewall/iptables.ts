// iptables backend: rules and POSIX sh scripts. IPv4 rules sit at the top of DOCKER-USER and match
// the port the client dialled (conntrack original destination), so they hold after Docker's DNAT.
// IPv6 (Docker 20.10 has no IPv6 DOCKER-USER) is filtered in mangle/PREROUTING, before any DNAT or
// docker-proxy sees the packet. Every rule carries the tag as its comment; deletion matches it exactly.
import { shellQuote } from "../../lib/shell.js";

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
export function iptablesRules(tag: string, port: number, v4: string[], v6: string[], ipv6?: { dest?: string }): IptablesRule[] {
  const p = String(port);
  const c = ["-m", "comment", "--comment", tag];
  const dnat = ["-p", "tcp", "-m", "conntrack", "--ctstate", "DNAT", "--ctorigdstport", p, "--ctdir", "ORIGINAL"];
  const r4 = (args: string[]): IptablesRule => ({ family: 4, table: "filter", chain: "DOCKER-USER", args });
  const r6 = (args: string[]): IptablesRule => ({ family: 6, table: "mangle", chain: "PREROUTING", args });
  // ctdir ORIGINAL: only client->host packets, never replies to the host's own outgoing connections.
  const local6 = [...(ipv6?.dest ? ["-d", `${ipv6.dest}/128`] : []), "-p", "tcp", "--dport", p, "-m", "conntrack", "--ctdir", "ORIGINAL", "-m", "addrtype", "--dst-type", "LOCAL"];
  const rules6 = [
    r6(["-i", "lo", ...local6, ...c, "-j", "RETURN"]),
    ...v6.map((cidr) => r6(["-s", cidr, ...local6, ...c, "-j", "RETURN"])),
    r6([...local6, ...c, "-j", "DROP"]),
  ];
  return [
    r4(["-p", "tcp", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "--ctorigdstport", p, "--ctdir", "REPLY", ...c, "-j", "RETURN"]),
    ...v4.map((cidr) => r4(["-s", cidr, ...dnat, ...c, "-j", "RETURN"])),
    r4([...dnat, ...c, "-j", "DROP"]),
    ...(ipv6 ? rules6 : []),
  ];
}

/** iptables-restore lines that insert the rules so they end up in `rules` order (last rule first). */
function insertLines(rules: IptablesRule[]): string {
  return [...rules].reverse().map((r) => `-I ${r.chain} 1 ${r.args.join(" ")}`).join("\n");
}

// Shared shell helpers. `tagged` prints the rules of a chain whose comment is exactly the tag
// (iptables prints it quoted or bare depending on the version), so "lab" never matches "lab2".
const prelude = (tag: string) => `set -eu
tag=${shellQuote(tag)}
msg() { printf 'sdwebui-firewall[%s]: %s\\n' "$tag" "$*" >&2; }
tagged() { # tagged BINARY TABLE CHAIN [extra -S flags]
  bin=$1 table=$2 chain=$3
  shift 3
  listing=$("$bin" -t "$table" "$@" -S "$chain") || { msg "cannot list $bin -t $table -S $chain"; exit 4; }
  printf '%s\\n' "$listing" | awk -v tag="$tag" '{
    for (i = 1; i < NF; i++) if ($i == "--comment" && ($(i + 1) == tag || $(i + 1) == "\\"" tag "\\"")) { print; next }
  }'
}
deletes() { lines=$(tagged "$@") || exit 4; if [ -n "$lines" ]; then printf '%s\\n' "$lines" | sed 's/^-A /-D /'; fi; }
has_docker_user() { iptables -t filter -n -L DOCKER-USER >/dev/null 2>&1; }
has_ipv6() { [ -e /proc/net/if_inet6 ]; }
count() { if [ -z "$1" ]; then echo 0; else printf '%s\\n' "$1" | wc -l | tr -d ' '; fi; }
`;

function transaction(table: string, restore: string, dels: string, inserts: string): string {
  // No insert lines (nothing published on that family): the transaction only deletes.
  return `body=$(printf '*${table}\\n'; [ -z "${dels}" ] || printf '%s\\n' "${dels}"; cat <<'SDWEBUI_RULES'
${inserts ? `${inserts}\n` : ""}COMMIT
SDWEBUI_RULES
)
printf '%s\\n' "$body" | ${restore} --noflush || { msg "${restore} rejected the transaction; the ${table} table was left unchanged"; exit 5; }`;
}

export function iptablesScripts(
  tag: string,
  rules: IptablesRule[],
  waitSeconds: number,
): { createScript: string; deleteScript: string; statusScript: string } {
  const v4 = rules.filter((r) => r.family === 4);
  const v6 = rules.filter((r) => r.family === 6);
  const port = v4[0]?.args[v4[0].args.indexOf("--ctorigdstport") + 1] ?? "?";

  const createScript = `#!/bin/sh
# sdwebui firewall (iptables): replace the rules tagged ${tag} in one transaction per family.
${prelude(tag)}
waited=0
while ! has_docker_user; do
  if [ "$waited" -ge ${waitSeconds} ]; then
    msg "chain DOCKER-USER not found in iptables' filter table after $waited s: dockerd is not running (or runs with --iptables=false). Start Docker and apply again, or use the nftables backend."
    exit 3
  fi
  if [ $((waited % 5)) -eq 0 ]; then msg "waiting for dockerd to create DOCKER-USER ($waited s of ${waitSeconds} s)"; fi
  sleep 1
  waited=$((waited + 1))
done
del4=$(deletes iptables filter DOCKER-USER)
${transaction("filter", "iptables-restore", "$del4", insertLines(v4))}
if has_ipv6; then
  del6=$(deletes ip6tables mangle PREROUTING)
${transaction("mangle", "ip6tables-restore", "$del6", insertLines(v6))}
  n6=$(count "$(tagged ip6tables mangle PREROUTING)")
else
  n6="0 (IPv6 disabled in this kernel)"
fi
n4=$(count "$(tagged iptables filter DOCKER-USER)")
echo "sdwebui-firewall[$tag]: port ${port}: $n4 IPv4 rules at the top of DOCKER-USER, $n6 IPv6 rules in mangle PREROUTING"
`;

  const deleteScript = `#!/bin/sh
# sdwebui firewall (iptables): remove exactly the rules tagged ${tag}; nothing to remove is success.
${prelude(tag)}
if has_docker_user; then
  del4=$(deletes iptables filter DOCKER-USER)
  if [ -n "$del4" ]; then
    printf '*filter\\n%s\\nCOMMIT\\n' "$del4" | iptables-restore --noflush || { msg "iptables-restore rejected the deletion"; exit 5; }
  fi
else
  del4=""
  msg "no DOCKER-USER chain (dockerd not running): no IPv4 rules to remove"
fi
del6=""
if has_ipv6; then
  del6=$(deletes ip6tables mangle PREROUTING)
  if [ -n "$del6" ]; then
    printf '*mangle\\n%s\\nCOMMIT\\n' "$del6" | ip6tables-restore --noflush || { msg "ip6tables-restore rejected the deletion"; exit 5; }
  fi
fi
echo "sdwebui-firewall[$tag]: removed $(count "$del4") IPv4 and $(count "$del6") IPv6 rules"
`;

  const statusScript = `#!/bin/sh
# sdwebui firewall (iptables): list the live rules tagged ${tag}, with packet/byte counters (-c).
${prelude(tag)}
if has_docker_user; then
  r4=$(tagged iptables filter DOCKER-USER -v)
  echo "IPv4 filter DOCKER-USER: $(count "$r4") rules tagged $tag"
  if [ -n "$r4" ]; then printf '%s\\n' "$r4"; fi
else
  echo "IPv4: no DOCKER-USER chain (dockerd not running)"
fi
if has_ipv6; then
  r6=$(tagged ip6tables mangle PREROUTING -v)
  echo "IPv6 mangle PREROUTING: $(count "$r6") rules tagged $tag"
  if [ -n "$r6" ]; then printf '%s\\n' "$r6"; fi
fi
`;
  return { createScript, deleteScript, statusScript };
}
