// The `gpus` setting in Docker's own vocabulary (`docker run --gpus`): all, a count, device=<ids>, or
// none for CPU mode. Parsed into a tagged value so the container spec and the flags need no re-parsing.
import { parsedString, parseOrThrow } from "./fields.js";

export type GpuRequest =
  { kind: "all" } | { kind: "none" } | { kind: "count"; count: number } | { kind: "devices"; ids: string[] };

const DEVICE_ID = /^(?:\d{1,3}|GPU-[0-9a-fA-F-]{8,64}|MIG-[0-9a-zA-Z/-]{8,80})$/;

export function parseGpus(value: string): GpuRequest | string {
  const v = value.trim();
  if (v === "all" || v === "none") return { kind: v };
  if (/^\d+$/.test(v)) {
    const count = Number(v);
    return count >= 1 && count <= 64
      ? { kind: "count", count }
      : "a count must be from 1 to 64 (use none for CPU mode)";
  }
  const ids = (v.startsWith("device=") ? v.slice("device=".length) : "").split(",");
  if (
    v.startsWith("device=") &&
    ids.length > 0 &&
    ids.every((id) => DEVICE_ID.test(id)) &&
    new Set(ids).size === ids.length
  )
    return { kind: "devices", ids };
  return "must be all, none, a count such as 1, or device=<id>[,<id>] with index or GPU-<uuid> ids, e.g. device=0,2";
}

export const gpuSetting = parsedString(parseGpus);
export const gpuRequest = (value: string): GpuRequest => parseOrThrow(parseGpus, "gpus", value);
