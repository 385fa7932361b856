// Strict CIDR parsing for the firewall allowlist. A value reaches iptables/nft only after it has been
// parsed into numbers and printed back in canonical form, so nothing the user typed is passed through.
import { isIPv4, isIPv6 } from "node:net";

export interface Cidr {
  family: 4 | 6;
  /** Canonical network form, e.g. "10.0.0.0/24" or "fd00:1::/64". */
  text: string;
  prefix: number;
}

function v4ToBig(addr: string): bigint {
  return addr.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function bigToV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join(".");
}

function v6ToBig(addr: string): bigint {
  let text = addr;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v = v4ToBig(tail[1]!);
    text = text.slice(0, tail.index) + `${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const r = rest === undefined || rest === "" ? [] : rest.split(":");
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill("0"), ...r];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (>= 2) of zero groups as "::". */
function bigToV6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/**
 * Parse one allowlist entry. A bare address means one host (/32 or /128). An entry with host bits
 * set (10.0.0.5/24) is rejected rather than silently widened or narrowed: the error names both readings.
 */
export function parseCidr(raw: string): Cidr {
  const entry = raw.trim();
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(entry);
  if (!m) throw new Error(`"${raw}" is not an address or CIDR: write e.g. 192.168.1.0/24 or fd00:1::/64`);
  const addr = m[1]!;
  let family: 4 | 6;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(addr) && isIPv4(addr)) family = 4;
  else if (isIPv6(addr) && !addr.includes("%")) family = 6;
  else throw new Error(`"${raw}": "${addr}" is not a valid IPv4 or IPv6 address (write e.g. 192.168.1.0/24 or fd00:1::/64)`);
  const bits = family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (m[2] !== undefined && (!/^(0|[1-9]\d*)$/.test(m[2]) || prefix > bits)) {
    throw new Error(`"${raw}": prefix length must be 0-${bits} for IPv${family}`);
  }
  const value = family === 4 ? v4ToBig(addr) : v6ToBig(addr);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const network = value & ~hostMask;
  const print = family === 4 ? bigToV4 : bigToV6;
  if ((value & hostMask) !== 0n) {
    throw new Error(
      `"${raw}" has host bits set: write the network ${print(network)}/${prefix}, ` +
        `or ${print(value)}/${bits} for that single host`,
    );
  }
  return { family, prefix, text: `${print(network)}/${prefix}` };
}
