// Scale-out: the `hosts` setting lists Docker hosts with the GPUs to use on each, one WebUI container
// per GPU (the WebUI serves one generation at a time). Entry form: `<dockerHost>#<gpu ids>` such as
// `ssh://ops@gpu-1#0,1`, or `<dockerHost>#cpu:<n>` for n CPU-mode containers (test rigs, CPU boxes).
import { parsedString, parseOrThrow } from "./fields.js";
import { DockerHost, parseDockerHost } from "./docker-host.js";
import { GpuRequest, parseGpus } from "./gpus.js";

export interface HostEntry {
  host: DockerHost;
  /** One entry per container: a pinned device, or CPU mode. */
  slots: GpuRequest[];
}

export function parseHostEntry(entry: string): HostEntry | string {
  const hash = entry.lastIndexOf("#");
  if (hash < 0)
    return `"${entry}" names no GPUs: write <dockerHost>#<gpu ids>, e.g. ssh://ops@gpu-1#0,1, or <dockerHost>#cpu:<n>`;
  const host = parseDockerHost(entry.slice(0, hash));
  if (typeof host === "string") return `"${entry}": ${host}`;
  const spec = entry.slice(hash + 1);
  const cpu = /^cpu:(\d{1,2})$/.exec(spec);
  if (cpu) {
    const n = Number(cpu[1]);
    return n >= 1 && n <= 16
      ? { host, slots: Array.from({ length: n }, () => ({ kind: "none" as const })) }
      : `"${entry}": cpu:<n> takes 1 to 16`;
  }
  const gpus = parseGpus(`device=${spec}`);
  if (typeof gpus === "string" || gpus.kind !== "devices")
    return `"${entry}": after # give GPU ids such as 0,1 (or cpu:<n>)`;
  return { host, slots: gpus.ids.map((id) => ({ kind: "devices" as const, ids: [id] })) };
}

export const hostEntry = parsedString(parseHostEntry);
export const hostEntryOf = (entry: string): HostEntry => parseOrThrow(parseHostEntry, "hosts", entry);
