import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32 } from "node:zlib";
import { encodePng } from "../../smoke/png-encode.js";
import { PngError, pngMismatches, readPng } from "../../smoke/png.js";

const infotext =
  "a cat smoke-abc123\nSteps: 4, Sampler: Euler, CFG scale: 7.0, Seed: 4242, Size: 64x32, Version: v1.10.1";

test("round trip: size and the parameters chunk", () => {
  const png = encodePng(64, 32, undefined, { parameters: infotext });
  const info = readPng(png);
  assert.equal(info.width, 64);
  assert.equal(info.height, 32);
  assert.equal(info.text.parameters, infotext);
  assert.deepEqual(pngMismatches(info, { width: 64, height: 32, runId: "smoke-abc123", seed: 4242 }), []);
});

test("mismatches name size, run id and seed", () => {
  const info = readPng(encodePng(64, 32, undefined, { parameters: infotext }));
  const m = pngMismatches(info, { width: 64, height: 64, runId: "smoke-other", seed: 42 });
  assert.equal(m.length, 3);
  assert.match(m[0] ?? "", /size 64x32, requested 64x64/);
  assert.match(m[1] ?? "", /run id smoke-other/);
  assert.match(m[2] ?? "", /Seed: 42/);
  // "Seed: 4242" must not satisfy seed 242
  assert.equal(pngMismatches(info, { width: 64, height: 32, runId: "smoke-abc123", seed: 242 }).length, 1);
  assert.match(
    pngMismatches(readPng(encodePng(8, 8)), { width: 8, height: 8, runId: "x", seed: 1 })[0] ?? "",
    /no "parameters"/,
  );
});

test("iTXt parameters (non-latin-1 prompt) are read", () => {
  const base = encodePng(8, 8);
  const data = Buffer.concat([
    Buffer.from("parameters\0\0\0\0\0", "latin1"),
    Buffer.from("猫 smoke-1\nSeed: 7", "utf8"),
  ]);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write("iTXt", 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  const png = Buffer.concat([base.subarray(0, 33), head, data, crc, base.subarray(33)]);
  assert.equal(readPng(png).text.parameters, "猫 smoke-1\nSeed: 7");
});

test("corruption is detected: empty, signature, truncation, CRC, missing IEND", () => {
  const good = encodePng(16, 16, undefined, { parameters: infotext });
  assert.throws(() => readPng(Buffer.alloc(0)), /empty/);
  assert.throws(() => readPng(Buffer.from("GIF89a......")), /signature/);
  assert.throws(() => readPng(good.subarray(0, good.length - 20)), PngError);
  const flipped = Buffer.from(good);
  flipped[40] = (flipped[40] ?? 0) ^ 0xff;
  assert.throws(() => readPng(flipped), /CRC mismatch/);
  assert.throws(() => readPng(good.subarray(0, good.length - 12)), /IEND/);
});
