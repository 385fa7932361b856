// The container the firewall tests protect: the project's stand-in image (built on demand by its own
// helper), publishing one host port on 0.0.0.0 and [::] and answering GET /internal/ping with 200.
import { get } from "node:http";
import { docker } from "../helpers/docker.js";
import { createNetns, ensureIpv4Forwarding, type NetnsClient } from "../helpers/netns.js";
import { ensureStandinImage, STANDIN_IMAGE } from "../helpers/standin.js";

export interface Target {
  id: string;
  name: string;
  remove(): void;
}

/** Run the target publishing hostPort on 0.0.0.0 and [::]; waits (bounded) until it answers on loopback. */
export async function startTarget(name: string, hostPort: number): Promise<Target> {
  ensureStandinImage();
  spawnRemove(name);
  const id = docker([
    "run",
    "-d",
    "--pull",
    "never",
    "--name",
    name,
    "--label",
    "sdwebui-test=firewall",
    "-p",
    `0.0.0.0:${hostPort}:8080`,
    "-p",
    `[::]:${hostPort}:8080`,
    // The stand-in's ENTRYPOINT already carries --listen --port 8080 (the universonic profile).
    STANDIN_IMAGE,
  ]).trim();
  const target = { id, name, remove: () => spawnRemove(name) };
  const deadline = Date.now() + 20_000;
  while ((await ping(hostPort)) !== 200) {
    if (Date.now() > deadline) {
      target.remove();
      throw new Error(`container ${name} did not answer on 127.0.0.1:${hostPort} within 20 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return target;
}

/** What every backend test needs: two client namespaces (one to allow, one to deny) and the target. */
export interface Rig {
  a: NetnsClient;
  b: NetnsClient;
  target: Target;
  /** GET /internal/ping from a namespace over IPv4 / IPv6 to the host's address on its veth. */
  v4(ns: NetnsClient): string;
  v6(ns: NetnsClient): string;
  remove(): void;
}

export async function startRig(name: string, port: number): Promise<Rig> {
  ensureIpv4Forwarding();
  const a = createNetns();
  const b = createNetns();
  try {
    const target = await startTarget(name, port);
    return {
      a,
      b,
      target,
      v4: (ns) => ns.httpGet(`http://${ns.hostV4}:${port}/internal/ping`),
      v6: (ns) => ns.httpGet(`http://[${ns.hostV6}]:${port}/internal/ping`),
      remove: () => {
        try {
          target.remove();
        } finally {
          a.remove();
          b.remove();
        }
      },
    };
  } catch (e) {
    a.remove();
    b.remove();
    throw e;
  }
}

/** GET /internal/ping on loopback: the status code, or 0 when it does not answer within 1 s. */
export function ping(hostPort: number): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port: hostPort, path: "/internal/ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

function spawnRemove(name: string): void {
  try {
    docker(["rm", "-f", name], { timeoutMs: 30_000 });
  } catch {
    // absent: nothing to remove
  }
}
