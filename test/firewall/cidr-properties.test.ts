// Property tests of the allowlist parser (fast-check), against an independent model in plain bigint
// arithmetic: the canonical text parses back to itself, denotes the same network as the input in any
// spelling, holds exactly the addresses the model says, and an entry with host bits set is refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { parseCidr } from "../../infra/firewall/cidr.js";

const mask = (bits: number, prefix: number) => ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
const v4Text = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join(".");
/** Full, uncompressed IPv6 text with leading zeros: a spelling the parser must normalise. */
const v6Long = (n: bigint) =>
  Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16).padStart(4, "0")).join(":");
const u32 = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n });
const u128 = fc.bigInt({ min: 0n, max: 2n ** 128n - 1n });
const inNet = (net: string, addr: string) => ipaddr.parse(addr).match(ipaddr.parseCIDR(net));

test("IPv4: networks normalise, round-trip, and hold exactly their addresses", () => {
  fc.assert(
    fc.property(u32, fc.integer({ min: 0, max: 32 }), u32, (value, prefix, probe) => {
      const network = value & mask(32, prefix);
      const c = parseCidr(`${v4Text(network)}/${prefix}`);
      assert.equal(c.text, `${v4Text(network)}/${prefix}`);
      assert.equal(parseCidr(c.text).text, c.text, "canonical text parses to itself");
      const expected = (probe & mask(32, prefix)) === network;
      assert.equal(inNet(c.text, v4Text(probe)), expected, `${v4Text(probe)} in ${c.text}`);
    }),
    { numRuns: 500 },
  );
});

test("IPv6: any spelling normalises to one canonical network that holds exactly its addresses", () => {
  fc.assert(
    fc.property(u128, fc.integer({ min: 0, max: 128 }), u128, (value, prefix, probe) => {
      const network = value & mask(128, prefix);
      const c = parseCidr(`${v6Long(network).toUpperCase()}/${prefix}`);
      assert.equal(parseCidr(c.text).text, c.text, "canonical text parses to itself");
      assert.equal(c.text, parseCidr(`${v6Long(network)}/${prefix}`).text, "case and leading zeros do not matter");
      assert.equal(
        inNet(c.text, v6Long(probe)),
        (probe & mask(128, prefix)) === network,
        `${v6Long(probe)} in ${c.text}`,
      );
    }),
    { numRuns: 500 },
  );
});

test("an entry with host bits set is refused, naming the network and the single host", () => {
  fc.assert(
    fc.property(u32, fc.integer({ min: 0, max: 31 }), (value, prefix) => {
      fc.pre((value & ~mask(32, prefix) & (2n ** 32n - 1n)) !== 0n);
      assert.throws(
        () => parseCidr(`${v4Text(value)}/${prefix}`),
        new RegExp(
          `host bits set: write the network ${v4Text(value & mask(32, prefix)).replaceAll(".", "\\.")}/${prefix}`,
        ),
      );
    }),
    { numRuns: 300 },
  );
});
