// Network namespaces as "client hosts" for firewall tests. Each namespace gets a veth pair to the host
// with private addresses of its own: 10.231.N.0/24 and fd23:1a7e:231:N::/64 (host side .1/::1, client
// side .2/::2). The namespace has no default route, so its traffic can only reach the host end of its
// veth. Names carry our pid so a later run can remove namespaces left by a crashed one.
import { execFileSync, spawnSync } from "node:child_process";
import type { TestContext } from "node:test";
import { processAlive, requireOrSkip } from "./requirements.js";

export interface NetnsClient {
  name: string;
  index: number;
  /** The host's address on this client's link: connect here to reach the host's published ports. */
  hostV4: string;
  hostV6: string;
  /** The client's own address and its network (for allowlists). */
  clientV4: string;
  clientV6: string;
  netV4: string;
  netV6: string;
  /** Run a command inside the namespace (bounded). */
  exec(argv: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  /** GET url from inside the namespace: "200"-style status text, or "ERR <reason>". Never throws. */
  httpGet(url: string, timeoutMs?: number): string;
  remove(): void;
}

const PREFIX = "sdfw";

function ip(args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
}

/** Root (or CAP_NET_ADMIN) is needed for namespaces and iptables: skip locally, fail under CI. */
export function requireRoot(t: TestContext): boolean {
  const root = process.getuid?.() === 0;
  return requireOrSkip(
    t,
    root ? "" : "the test needs root for network namespaces and iptables (run as root or via bash .ci/run)",
  );
}

/** Remove namespaces that an earlier, dead test process left behind. */
export function removeStaleNamespaces(): void {
  for (const line of ip(["netns", "list"]).split("\n")) {
    const m = new RegExp(`^(${PREFIX}-(\\d+)-\\d+)\\b`).exec(line);
    if (m && !processAlive(Number(m[2]))) spawnSync("ip", ["netns", "del", m[1]!], { timeout: 10_000 });
  }
}

/** Claim a free index by creating its veth pair: `ip link add` fails if another run took the name. */
function claimIndex(): number {
  const start = 1 + Math.floor(Math.random() * 249);
  for (let i = 0; i < 249; i++) {
    const n = 1 + ((start + i) % 249);
    if (ip(["-o", "addr", "show"]).includes(`10.231.${n}.`)) continue;
    const r = spawnSync("ip", ["link", "add", `${PREFIX}${n}h`, "type", "veth", "peer", "name", `${PREFIX}${n}n`], {
      timeout: 10_000,
    });
    if (r.status === 0) return n;
  }
  throw new Error("no free 10.231.N.0/24 test subnet (1-249 all in use): remove stale sdfw* links");
}

const CLIENT = `
const [url, ms] = process.argv.slice(1);
const req = require(url.startsWith("https") ? "https" : "http").get(url, (res) => {
  res.resume(); res.on("end", () => { console.log(String(res.statusCode)); process.exit(0); });
});
const timer = setTimeout(() => { console.log("ERR timeout"); process.exit(0); }, Number(ms));
req.on("error", (e) => { clearTimeout(timer); console.log("ERR " + (e.code || e.message)); process.exit(0); });
`;

export function createNetns(): NetnsClient {
  removeStaleNamespaces();
  const n = claimIndex();
  const name = `${PREFIX}-${process.pid}-${n}`;
  const hostIf = `${PREFIX}${n}h`;
  const nsIf = `${PREFIX}${n}n`;
  const hex = n.toString(16);
  const c = {
    hostV4: `10.231.${n}.1`,
    clientV4: `10.231.${n}.2`,
    netV4: `10.231.${n}.0/24`,
    hostV6: `fd23:1a7e:231:${hex}::1`,
    clientV6: `fd23:1a7e:231:${hex}::2`,
    netV6: `fd23:1a7e:231:${hex}::/64`,
  };
  const remove = () => {
    spawnSync("ip", ["netns", "del", name], { timeout: 10_000 });
    // Deleting the namespace deletes its veth end and with it the host end; this is a fallback.
    spawnSync("ip", ["link", "del", hostIf], { timeout: 10_000, stdio: "ignore" });
  };
  try {
    ip(["netns", "add", name]);
    ip(["link", "set", nsIf, "netns", name]);
    ip(["addr", "add", `${c.hostV4}/24`, "dev", hostIf]);
    ip(["-6", "addr", "add", `${c.hostV6}/64`, "dev", hostIf, "nodad"]);
    ip(["link", "set", hostIf, "up"]);
    const inNs = (args: string[]) => ip(["netns", "exec", name, "ip", ...args]);
    inNs(["link", "set", "lo", "up"]);
    inNs(["addr", "add", `${c.clientV4}/24`, "dev", nsIf]);
    inNs(["-6", "addr", "add", `${c.clientV6}/64`, "dev", nsIf, "nodad"]);
    inNs(["link", "set", nsIf, "up"]);
  } catch (e) {
    remove();
    throw e;
  }
  const exec = (argv: string[], timeoutMs = 15_000) => {
    const r = spawnSync("ip", ["netns", "exec", name, ...argv], { encoding: "utf8", timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? (r.error?.message || "") };
  };
  const httpGet = (url: string, timeoutMs = 1000) => {
    const r = exec([process.execPath, "-e", CLIENT, url, String(timeoutMs)], timeoutMs + 10_000);
    return r.stdout.trim() || `ERR client failed: ${r.stderr.trim()}`;
  };
  return { name, index: n, ...c, exec, httpGet, remove };
}

/** Docker's published ports need IPv4 forwarding (dockerd turns it on; make sure, never turn it off). */
export function ensureIpv4Forwarding(): void {
  const path = "/proc/sys/net/ipv4/ip_forward";
  const cur = execFileSync("cat", [path], { encoding: "utf8" }).trim();
  if (cur !== "1") execFileSync("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
}
