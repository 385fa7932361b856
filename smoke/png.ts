// PNG reading and verification of the proven file: signature, chunk CRCs, IHDR size, and the
// `parameters` text chunk (tEXt, iTXt or zTXt) the WebUI writes with the infotext.
import { crc32, inflateSync } from "node:zlib";

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngInfo {
  width: number;
  height: number;
  text: Record<string, string>;
}

export class PngError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PngError";
  }
}

/** Parse a PNG; throws PngError naming the defect (signature, truncation, CRC, missing IHDR/IEND). */
export function readPng(buf: Buffer): PngInfo {
  if (buf.length === 0) throw new PngError("file is empty (0 bytes)");
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new PngError("no PNG signature");
  let off = 8;
  let width = -1;
  let height = -1;
  let sawEnd = false;
  const text: Record<string, string> = {};
  while (off < buf.length) {
    if (off + 12 > buf.length) throw new PngError(`truncated chunk header at byte ${off}`);
    const len = buf.readUInt32BE(off);
    const type = buf.toString("latin1", off + 4, off + 8);
    if (off + 12 + len > buf.length) throw new PngError(`chunk ${type} at byte ${off} is truncated`);
    const data = buf.subarray(off + 8, off + 8 + len);
    const crc = buf.readUInt32BE(off + 8 + len);
    if (crc32(buf.subarray(off + 4, off + 8 + len)) !== crc)
      throw new PngError(`CRC mismatch in chunk ${type} at byte ${off}`);
    if (off === 8 && type !== "IHDR") throw new PngError("first chunk is not IHDR");
    if (type === "IHDR") {
      if (len !== 13) throw new PngError("IHDR has the wrong length");
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    } else if (type === "tEXt" || type === "iTXt" || type === "zTXt") {
      const t = decodeText(type, data);
      if (t) text[t.key] = t.value;
    } else if (type === "IEND") {
      sawEnd = true;
      break;
    }
    off += 12 + len;
  }
  if (width < 0) throw new PngError("no IHDR chunk");
  if (!sawEnd) throw new PngError("no IEND chunk (file truncated)");
  return { width, height, text };
}

function decodeText(type: string, data: Buffer): { key: string; value: string } | undefined {
  const nul = data.indexOf(0);
  if (nul < 0) return undefined;
  const key = data.toString("latin1", 0, nul);
  if (type === "tEXt") return { key, value: data.toString("latin1", nul + 1) };
  if (type === "zTXt") return { key, value: inflateSync(data.subarray(nul + 2)).toString("latin1") };
  // iTXt: keyword \0 compression-flag method language \0 translated-keyword \0 text (UTF-8)
  const compressed = data[nul + 1] === 1;
  const langEnd = data.indexOf(0, nul + 3);
  const transEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
  if (transEnd < 0) return undefined;
  const raw = data.subarray(transEnd + 1);
  return { key, value: (compressed ? inflateSync(raw) : raw).toString("utf8") };
}

export interface PngExpectation {
  width: number;
  height: number;
  runId: string;
  seed: number;
}

/** The list of mismatches between a parsed PNG and what the proof asked for (empty = match). */
export function pngMismatches(info: PngInfo, want: PngExpectation): string[] {
  const out: string[] = [];
  if (info.width !== want.width || info.height !== want.height)
    out.push(`size ${info.width}x${info.height}, requested ${want.width}x${want.height}`);
  const params = info.text.parameters;
  if (params === undefined) {
    out.push(`no "parameters" text chunk (is the option enable_pnginfo off?)`);
    return out;
  }
  if (!params.includes(want.runId)) out.push(`"parameters" does not contain the run id ${want.runId}`);
  if (!new RegExp(`(^|[\\s,])Seed: ${want.seed}(,|$|\\s)`, "m").test(params))
    out.push(`"parameters" does not contain "Seed: ${want.seed}"`);
  return out;
}
