// Facts about the WebUI container read through the host's docker CLI, used only to diagnose a failure:
// is it running, what is its working dir, which folder is mounted where, does a file exist inside it,
// and what does it listen on (from /proc/<pid>/net/tcp*, so no tool is needed in the image).
import { z } from "zod";
import type { HostAccess } from "./host.js";

export const InspectSchema = z.array(
  z.looseObject({
    Id: z.string(),
    State: z.looseObject({ Running: z.boolean(), Pid: z.number().int() }),
    Config: z.looseObject({ WorkingDir: z.string().nullable().optional(), User: z.string().nullable().optional() }),
    Mounts: z
      .array(z.looseObject({ Type: z.string(), Source: z.string(), Destination: z.string() }))
      .nullable()
      .optional(),
    NetworkSettings: z
      .looseObject({
        Ports: z
          .record(z.string(), z.array(z.looseObject({ HostIp: z.string(), HostPort: z.string() })).nullable())
          .nullable()
          .optional(),
      })
      .optional(),
  }),
);
export type ContainerFacts = z.infer<typeof InspectSchema>[number];

export async function inspectContainer(host: HostAccess, name: string): Promise<ContainerFacts | undefined> {
  const r = await host.run(["docker", "inspect", "--type", "container", "--", name], 30_000);
  if (r.code !== 0) return undefined;
  const parsed = InspectSchema.safeParse(JSON.parse(r.stdout));
  return parsed.success ? parsed.data[0] : undefined;
}

/** The mount whose destination covers `containerPath` (longest match), if any. */
export function mountFor(
  facts: ContainerFacts,
  containerPath: string,
): { Source: string; Destination: string } | undefined {
  const ms = (facts.Mounts ?? []).filter(
    (m) => containerPath === m.Destination || containerPath.startsWith(m.Destination.replace(/\/+$/, "") + "/"),
  );
  return ms.sort((a, b) => b.Destination.length - a.Destination.length)[0];
}

/** Container port (number) published on `hostPort`, if any. */
export function containerPortFor(facts: ContainerFacts, hostPort: number): number | undefined {
  for (const [key, binds] of Object.entries(facts.NetworkSettings?.Ports ?? {})) {
    if ((binds ?? []).some((b) => Number(b.HostPort) === hostPort)) return Number(key.split("/")[0]);
  }
  return undefined;
}

/**
 * Files added in the container's own layer (`docker diff`: volumes are not in it) that `matches`
 * accepts: proof that the WebUI saved the image inside the container rather than in a mounted folder.
 * Needs no tool inside the image.
 */
export async function addedInContainer(
  host: HostAccess,
  name: string,
  matches: (base: string) => boolean,
): Promise<string[] | undefined> {
  const r = await host.run(["docker", "diff", name], 60_000);
  if (r.code !== 0) return undefined;
  return r.stdout
    .split("\n")
    .filter((l) => l.startsWith("A ") || l.startsWith("C "))
    .map((l) => l.slice(2).trim())
    .filter((p) => matches(p.split("/").pop() ?? ""));
}

export interface ListenSocket {
  address: string;
  port: number;
}

/** LISTEN sockets from /proc/net/tcp or tcp6 text. */
export function parseProcNetTcp(text: string): ListenSocket[] {
  const out: ListenSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== "0A") continue;
    const [hexAddr, hexPort] = (f[1] ?? "").split(":");
    if (!hexAddr || !hexPort) continue;
    out.push({ address: hexToIp(hexAddr), port: parseInt(hexPort, 16) });
  }
  return out;
}

function hexToIp(h: string): string {
  if (h.length === 8) {
    const b = Buffer.from(h, "hex");
    return `${b[3]}.${b[2]}.${b[1]}.${b[0]}`;
  }
  // IPv6 in /proc: four little-endian 32-bit words.
  const words = [0, 1, 2, 3].map((i) =>
    Buffer.from(h.slice(i * 8, i * 8 + 8), "hex")
      .reverse()
      .toString("hex"),
  );
  const full = words.join("");
  if (/^0{32}$/.test(full)) return "::";
  if (/^0{31}1$/.test(full)) return "::1";
  if (full.startsWith("00000000000000000000ffff")) {
    const b = Buffer.from(full.slice(24), "hex");
    return `::ffff:${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  }
  return full.replace(/(.{4})/g, "$1:").slice(0, -1);
}

/** The container's LISTEN sockets (undefined when /proc cannot be read). */
export async function listeningSockets(host: HostAccess, pid: number): Promise<ListenSocket[] | undefined> {
  if (pid <= 0) return undefined;
  const out: ListenSocket[] = [];
  let any = false;
  for (const f of ["tcp", "tcp6"]) {
    try {
      out.push(...parseProcNetTcp((await host.readFile(`/proc/${pid}/net/${f}`)).toString("utf8")));
      any = true;
    } catch {
      /* tcp6 may be absent */
    }
  }
  return any ? out : undefined;
}

export function isLoopback(addr: string): boolean {
  return addr.startsWith("127.") || addr === "::1" || addr.startsWith("::ffff:127.");
}
