// PNG encode/decode for the stand-in: deterministic noise-like RGB images from a seed (so sizes over
// the wire are realistic), `parameters` text chunks as PIL writes them (tEXt, iTXt when not latin-1),
// grids, and a reader the contract tests share.
import { crc32, deflateSync, inflateSync } from "node:zlib";

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface RawImage {
  width: number;
  height: number;
  rgb: Buffer;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** mulberry32: small, fast, deterministic per seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A smooth colour field from the seed plus 3 bits of noise per byte (SD-like sizes after deflate). */
export function noiseImage(seed: number, width: number, height: number): RawImage {
  const r = rng(seed);
  const base = [r() & 0xff, r() & 0xff, r() & 0xff];
  const rgb = Buffer.alloc(width * height * 3);
  let i = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const n = r();
      rgb[i++] = (base[0]! + (x * 96) / width + (n & 7)) & 0xff;
      rgb[i++] = (base[1]! + (y * 96) / height + ((n >>> 8) & 7)) & 0xff;
      rgb[i++] = (base[2]! + ((x + y) * 48) / (width + height) + ((n >>> 16) & 7)) & 0xff;
    }
  }
  return { width, height, rgb };
}

/** Grid as images.image_grid: rows = round(sqrt(n)), cols = ceil(n / rows), row-major. */
export function grid(images: RawImage[]): RawImage {
  const n = images.length;
  const rows = Math.max(1, Math.round(Math.sqrt(n)));
  const cols = Math.ceil(n / rows);
  const w = images[0]!.width;
  const h = images[0]!.height;
  const out = Buffer.alloc(cols * w * rows * h * 3);
  images.forEach((img, k) => {
    const ox = (k % cols) * w;
    const oy = Math.floor(k / cols) * h;
    for (let y = 0; y < h; y++) {
      img.rgb.copy(out, ((oy + y) * cols * w + ox) * 3, y * w * 3, (y + 1) * w * 3);
    }
  });
  return { width: cols * w, height: rows * h, rgb: out };
}

function textChunk(key: string, value: string): Buffer {
  // PIL's PngInfo.add_text: tEXt when the value is latin-1, else iTXt (uncompressed, UTF-8).
  if ([...value].every((ch) => ch.charCodeAt(0) <= 0xff))
    return chunk("tEXt", Buffer.concat([Buffer.from(key, "latin1"), Buffer.from([0]), Buffer.from(value, "latin1")]));
  return chunk(
    "iTXt",
    Buffer.concat([Buffer.from(key, "latin1"), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(value, "utf8")]),
  );
}

export function encodePng(img: RawImage, text: Record<string, string> = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour RGB
  const stride = img.width * 3;
  // Filter type 1 (Sub) on every row, as encoders pick for photos: residuals of the smooth field are
  // small, so the compressed size tracks the noise (about 0.5 byte per byte, like real SD outputs).
  const raw = Buffer.alloc((stride + 1) * img.height);
  for (let y = 0; y < img.height; y++) {
    const o = y * (stride + 1);
    raw[o] = 1;
    for (let x = 0; x < stride; x++)
      raw[o + 1 + x] = (img.rgb[y * stride + x]! - (x >= 3 ? img.rgb[y * stride + x - 3]! : 0)) & 0xff;
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk("IHDR", ihdr),
    ...Object.entries(text).map(([k, v]) => textChunk(k, v)),
    chunk("IDAT", deflateSync(raw, { level: 6 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** STANDIN_FAULT=corrupt-png: same name and about the same size, but IDAT bytes flipped (CRC fails) and no IEND. */
export function corruptPng(png: Buffer): Buffer {
  const out = Buffer.from(png.subarray(0, png.length - 12));
  const mid = Math.floor(out.length * 0.6);
  for (let i = mid; i < Math.min(out.length, mid + 64); i++) out[i] = out[i]! ^ 0xa5;
  return out;
}

export interface PngInfo {
  width: number;
  height: number;
  text: Record<string, string>;
  rgb?: Buffer;
}

/** Parse and verify a PNG (signature, CRCs, IHDR, IEND, text chunks). Throws naming the defect. */
export function readPng(buf: Buffer, opts: { pixels?: boolean } = {}): PngInfo {
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error("no PNG signature");
  let off = 8;
  let width = -1;
  let height = -1;
  let end = false;
  const text: Record<string, string> = {};
  const idat: Buffer[] = [];
  while (off < buf.length && !end) {
    if (off + 12 > buf.length) throw new Error(`truncated chunk at byte ${off}`);
    const len = buf.readUInt32BE(off);
    const type = buf.toString("latin1", off + 4, off + 8);
    if (off + 12 + len > buf.length) throw new Error(`chunk ${type} truncated`);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (crc32(buf.subarray(off + 4, off + 8 + len)) >>> 0 !== buf.readUInt32BE(off + 8 + len))
      throw new Error(`CRC mismatch in ${type}`);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    } else if (type === "tEXt") {
      const z = data.indexOf(0);
      text[data.toString("latin1", 0, z)] = data.toString("latin1", z + 1);
    } else if (type === "iTXt") {
      const z = data.indexOf(0);
      let p = z + 3;
      p = data.indexOf(0, p) + 1; // language tag
      p = data.indexOf(0, p) + 1; // translated keyword
      text[data.toString("latin1", 0, z)] = data.toString("utf8", p);
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") end = true;
    off += 12 + len;
  }
  if (width < 0) throw new Error("no IHDR");
  if (!end) throw new Error("no IEND");
  const info: PngInfo = { width, height, text };
  if (opts.pixels) {
    const raw = inflateSync(Buffer.concat(idat));
    const stride = width * 3;
    const rgb = Buffer.alloc(stride * height);
    for (let y = 0; y < height; y++) {
      const f = raw[y * (stride + 1)]!;
      if (f > 1) throw new Error(`filter type ${f} not supported by this reader`);
      for (let x = 0; x < stride; x++) {
        const v = raw[y * (stride + 1) + 1 + x]!;
        rgb[y * stride + x] = f === 1 && x >= 3 ? (v + rgb[y * stride + x - 3]!) & 0xff : v;
      }
    }
    info.rgb = rgb; // filter types 0 and 1 (what encodePng writes)
  }
  return info;
}

/** What PIL.Image.open would accept, by magic bytes (img2img init images). */
export function looksLikeImage(b: Buffer): boolean {
  return (
    b.subarray(0, 8).equals(PNG_SIGNATURE) ||
    (b[0] === 0xff && b[1] === 0xd8) ||
    b.subarray(0, 4).toString("latin1") === "GIF8" ||
    b.subarray(0, 2).toString("latin1") === "BM" ||
    (b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP")
  );
}
