// Diagnosis of the two failures that need a closer look: the API never answered, and the API said it
// saved but nothing is in the mapped folder. With --container, the host's docker CLI tells the cases
// apart (not running, listening on 127.0.0.1 only, saved inside the container, other data root).
import { SmokeError } from "./errors.js";
import type { HostAccess } from "./host.js";
import {
  addedInContainer,
  containerPortFor,
  inspectContainer,
  isLoopback,
  listeningSockets,
  mountFor,
} from "./container.js";
import { describeSearch } from "./locate.js";
import type { SearchedFolder } from "./locate.js";
import type { NotReachedError } from "./readiness.js";

export interface DiagnoseContext {
  url: string;
  host: HostAccess;
  /** Is the Docker host up? (local: yes; SSH: the login works) */
  hostUp: () => Promise<boolean>;
  container?: string;
  limitS: number;
}

export async function diagnoseNotReached(e: NotReachedError, d: DiagnoseContext): Promise<SmokeError> {
  const u = new URL(d.url);
  const where = `${u.hostname}:${u.port || (u.protocol === "https:" ? 443 : 80)}`;
  if (e.lastKind === "connect-timeout") {
    if (await d.hostUp())
      return new SmokeError(
        "firewall",
        `connecting to ${where} times out while the Docker host is up (${d.host.description} answers): a firewall drops the packets. ` +
          `Allow this machine's address in the firewall settings (the allowed source addresses of the deployment).`,
      );
    return new SmokeError(
      "unreachable",
      `connecting to ${where} times out and the Docker host does not answer (${d.host.description}): is the host up?`,
    );
  }
  if (e.lastKind === "http" || e.lastKind === "timeout")
    return new SmokeError(
      "model-timeout",
      `timed out waiting for the WebUI: ${e.message} until the ${d.limitS}s limit; raise --timeout or check the container logs`,
    );
  if (d.container) {
    const facts = await inspectContainer(d.host, d.container).catch(() => undefined);
    if (!facts)
      return new SmokeError(
        "unreachable",
        `nothing answers at ${where} (${e.message}) and container ${d.container} does not exist on the host: was it created?`,
      );
    if (!facts.State.Running)
      return new SmokeError(
        "unreachable",
        `nothing answers at ${where}: container ${d.container} is not running; see docker logs ${d.container}`,
      );
    const port = containerPortFor(facts, Number(u.port || 80));
    const socks = await listeningSockets(d.host, facts.State.Pid).catch(() => undefined);
    if (port !== undefined && socks) {
      const onPort = socks.filter((s) => s.port === port);
      if (onPort.length > 0 && onPort.every((s) => isLoopback(s.address)))
        return new SmokeError(
          "listen-localhost",
          `container ${d.container} is running but the WebUI listens on ${onPort[0]?.address}:${port} only, so the published address ${where} is unreachable: ` +
            `start the WebUI with --listen`,
        );
      if (onPort.length === 0)
        return new SmokeError(
          "model-timeout",
          `timed out waiting for the WebUI: container ${d.container} is running but nothing listens on port ${port} inside it after ${d.limitS}s; ` +
            `see docker logs ${d.container} (still installing or loading?), or raise --timeout`,
        );
    }
    if (port === undefined)
      return new SmokeError(
        "unreachable",
        `container ${d.container} publishes no port ${u.port}: check the port mapping and --url`,
      );
  }
  return new SmokeError(
    "unreachable",
    `nothing answers at ${where} (${e.message}) within ${d.limitS}s. Either the container is not running or still starting (see docker logs), ` +
      `or the WebUI listens on 127.0.0.1 only (start it with --listen), or a firewall rejects this machine. Pass --container NAME for a precise diagnosis.`,
  );
}

export interface NotFoundContext {
  host: HostAccess;
  container?: string;
  hostOutputsDir: string;
  containerOutputsDir: string;
  containerDataRoot: string;
  containerOutdir: string;
  outdirOption: string;
  seed: number;
  matches: (name: string) => boolean;
  searched: SearchedFolder[];
}

export async function diagnoseNotFound(n: NotFoundContext): Promise<SmokeError> {
  const listing = describeSearch(n.searched);
  const denied = n.searched.find((s) => s.state === "denied");
  if (denied)
    return new SmokeError(
      "permission-denied",
      `the smoke cannot read ${denied.path} on the host (${n.host.description}): give this user read access`,
      listing,
    );
  const profile = `profile: data root ${n.containerDataRoot}, outputs mounted at ${n.containerOutputsDir} from ${n.hostOutputsDir}`;
  if (n.container) {
    const facts = await inspectContainer(n.host, n.container).catch(() => undefined);
    if (facts) {
      const inside = (await addedInContainer(n.host, n.container, n.matches).catch(() => undefined)) ?? [];
      const mount = mountFor(facts, n.containerOutputsDir);
      if (inside.length > 0 && !mount)
        return new SmokeError(
          "saved-in-container",
          `the WebUI saved ${inside[0]} inside the container only: no host folder is mounted at ${n.containerOutputsDir} (the outputs volume is not mapped); ` +
            `mount ${n.hostOutputsDir} at ${n.containerOutputsDir}`,
          listing,
        );
      if (inside.length > 0)
        return new SmokeError(
          "data-root-mismatch",
          `the WebUI saved ${inside[0]}, outside the mounted folder ${n.containerOutputsDir}: the image's data root (working dir ${facts.Config.WorkingDir || "/"}) ` +
            `does not match the ${profile}; pick the image's profile or set dataRoot/outputsPath`,
          listing,
        );
      if (!mount)
        return new SmokeError(
          "saved-in-container",
          `no host folder is mounted at ${n.containerOutputsDir} in container ${n.container}: the outputs volume is not mapped`,
          listing,
        );
      if (mount.Source.replace(/\/+$/, "") !== n.hostOutputsDir.replace(/\/+$/, ""))
        return new SmokeError(
          "saved-nowhere",
          `the container mounts ${mount.Source} at ${mount.Destination}, not ${n.hostOutputsDir}: point --outputs-dir at the mounted folder`,
          listing,
        );
      const wd = facts.Config.WorkingDir || "/";
      if (!n.outdirOption.startsWith("/") && wd.replace(/\/+$/, "") !== n.containerDataRoot.replace(/\/+$/, ""))
        return new SmokeError(
          "data-root-mismatch",
          `the WebUI reports the relative outdir ${n.outdirOption} but works in ${wd}, not ${n.containerDataRoot}: images land outside the mounted folder; ` +
            `check the ${profile}`,
          listing,
        );
    }
  }
  return new SmokeError(
    "saved-nowhere",
    `the API says it saved the image (seed ${n.seed}) to ${n.containerOutdir}, but no *-${n.seed}.png is in the host folders searched. ` +
      `Check the outputs volume (${profile}) and the image's data root; pass --container NAME for a precise diagnosis.`,
    listing,
  );
}
