// Strict CIDR parsing for the firewall allowlist. A value reaches iptables/nft only after it has been
// parsed by ipaddr.js and printed back in canonical form, so nothing the user typed is passed through.
// The library does the address arithmetic (a security rule is only as right as its masks); this module
// adds the policy: strict input forms, no zones, no silent widening of an entry with host bits set.
import { isIPv4, isIPv6 } from "node:net";
import ipaddr from "ipaddr.js";

export interface Cidr {
  family: 4 | 6;
  /** Canonical network form, e.g. "10.0.0.0/24" or "fd00:1::/64". */
  text: string;
  prefix: number;
}

/** RFC 5952 for IPv6 (lowercase, no leading zeros, the longest zero run as ::), dotted quad for IPv4. */
const canonical = (a: ipaddr.IPv4 | ipaddr.IPv6): string =>
  a.kind() === "ipv6" ? (a as ipaddr.IPv6).toRFC5952String() : a.toString();

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
  // Both parsers must agree: node's rejects forms ipaddr.js is lenient about, and zones are refused.
  if (ipaddr.IPv4.isValidFourPartDecimal(addr) && isIPv4(addr)) family = 4;
  else if (ipaddr.IPv6.isValid(addr) && isIPv6(addr) && !addr.includes("%")) family = 6;
  else
    throw new Error(
      `"${raw}": "${addr}" is not a valid IPv4 or IPv6 address (write e.g. 192.168.1.0/24 or fd00:1::/64)`,
    );
  const bits = family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (m[2] !== undefined && (!/^(0|[1-9]\d*)$/.test(m[2]) || prefix > bits)) {
    throw new Error(`"${raw}": prefix length must be 0-${bits} for IPv${family}`);
  }
  const address = family === 4 ? ipaddr.IPv4.parse(addr) : ipaddr.IPv6.parse(addr);
  const network =
    family === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${prefix}`);
  if (canonical(network) !== canonical(address)) {
    throw new Error(
      `"${raw}" has host bits set: write the network ${canonical(network)}/${prefix}, ` +
        `or ${canonical(address)}/${bits} for that single host`,
    );
  }
  return { family, prefix, text: `${canonical(network)}/${prefix}` };
}
