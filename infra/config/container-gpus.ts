// The GPUs one WebUI container (or pod) sees, from the raw settings of whichever target the stack has:
// the flags that depend on it (the CPU-mode flags, --device-id) are checked against it. Raw values are
// read with the settings' own parsers; a value they refuse is left to its own message.
import { parseGpus } from "./gpus.js";
import { parseHostEntry } from "./hosts.js";
import { parseJsonText } from "./fields.js";
import type { ExtraArgContext } from "./extra-args.js";

export function containerGpus(raw: Record<string, unknown>): Pick<ExtraArgContext, "cpuModeBy" | "gpus"> {
  if (raw.target === "kubernetes") {
    const n = Number(raw.gpusPerPod ?? 1);
    if (!Number.isInteger(n)) return {};
    return n === 0 ? { cpuModeBy: "gpusPerPod: 0" } : { gpus: { perContainer: n, by: `gpusPerPod: ${n}` } };
  }
  const hosts = parseJsonText(raw.hosts ?? []);
  if (Array.isArray(hosts) && hosts.length > 0) {
    const slots = hosts.flatMap((h) => {
      const entry = typeof h === "string" ? parseHostEntry(h) : "";
      return typeof entry === "string" ? [] : entry.slots;
    });
    return {
      ...(slots.some((s) => s.kind === "none") ? { cpuModeBy: "a hosts entry with #cpu:<n>" } : {}),
      ...(slots.some((s) => s.kind === "devices")
        ? { gpus: { perContainer: 1, by: "hosts: one GPU per container" } }
        : {}),
    };
  }
  const gpus = typeof raw.gpus === "string" ? parseGpus(raw.gpus) : undefined;
  if (typeof gpus !== "object") return {};
  switch (gpus.kind) {
    case "none":
      return { cpuModeBy: "gpus: none" };
    case "count":
      return { gpus: { perContainer: gpus.count, by: `gpus: ${gpus.count}` } };
    case "devices":
      return { gpus: { perContainer: gpus.ids.length, by: `gpus: device=${gpus.ids.join(",")}` } };
    case "all":
      return {};
  }
}
