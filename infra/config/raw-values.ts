// Reading raw setting values for the rules across keys: they run even when a key is bad, so each reads
// only what it can and leaves the rest to the schema.
import { z } from "zod";
import { parseJsonText } from "./fields.js";
import { parseDockerHost } from "./docker-host.js";
import { parseHostEntry } from "./hosts.js";
import { SettingsSchema } from "./schema.js";
import type { RawSettings } from "./schema.js";

/** Whether a raw value is the setting's default, read by the setting's own schema (so "7860" is 7860). */
export function isDefaultValue(raw: RawSettings, key: string): boolean {
  if (raw[key] === undefined) return true;
  const field = (SettingsSchema.shape as Record<string, z.ZodType>)[key];
  const parsed = field?.safeParse(raw[key]);
  return parsed?.success === true && JSON.stringify(parsed.data) === JSON.stringify(field!.parse(undefined));
}

/** A list setting's entries as far as they are readable (for rules across keys; the schema reports the rest). */
export function jsonList(v: unknown): unknown[] {
  const list = parseJsonText(v ?? []);
  return Array.isArray(list) ? list : [];
}

/** The hosts entries when the value is a list of strings, else none. */
export function hostEntries(raw: RawSettings): string[] {
  return z.array(z.string()).safeParse(parseJsonText(raw.hosts ?? [])).data ?? [];
}

/** The stack's Docker hosts as far as the raw values tell: each hosts entry, else dockerHost (the ssh host, if any, of each). */
export function rawDockerHosts(raw: RawSettings): { sshHost?: string }[] {
  const entries = hostEntries(raw);
  const hosts =
    entries.length > 0
      ? entries.map((e) => {
          const r = parseHostEntry(e);
          return typeof r === "string" ? undefined : r.host;
        })
      : [typeof raw.dockerHost === "string" ? parseDockerHost(raw.dockerHost) : undefined];
  return hosts.map((h) => (typeof h === "object" && h?.kind === "ssh" ? { sshHost: h.host } : {}));
}
