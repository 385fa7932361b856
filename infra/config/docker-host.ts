// The Docker host the program deploys to: a local socket (unix://) or a remote engine over SSH
// (ssh://user@host[:port]), the two forms the docker CLI and provider understand without TLS setup.
import { isIP } from "node:net";
import { parsedString, parseOrThrow } from "./fields.js";
import { isTcpPort, TCP_PORT_RULE } from "../../lib/tcp-port.js";

/** The Docker engine a stack uses when it names none: the local daemon's socket, as DOCKER_HOST defaults. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

export type DockerHost =
  | { kind: "unix"; uri: string; socket: string }
  | { kind: "ssh"; uri: string; user: string; host: string; port: number };

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/;

export function parseDockerHost(uri: string): DockerHost | string {
  if (uri.startsWith("unix://")) {
    const socket = uri.slice("unix://".length);
    return /^\/[A-Za-z0-9_./-]+$/.test(socket)
      ? { kind: "unix", uri, socket }
      : `unix:// must be followed by an absolute socket path, e.g. ${DEFAULT_DOCKER_HOST}`;
  }
  if (uri.startsWith("tcp://"))
    return "plain tcp:// exposes the Docker API without authentication; use ssh://user@host[:port]";
  const m = /^ssh:\/\/([^@/]+)@(\[[0-9A-Fa-f:.]+\]|[^:/[\]]+)(?::(\d{1,5}))?$/.exec(uri);
  if (!m) return "must be unix:///path/to/docker.sock or ssh://user@host[:port]";
  const [, user, rawHost, rawPort] = m;
  const host = rawHost!.startsWith("[") ? rawHost!.slice(1, -1) : rawHost!;
  if (!USER.test(user!)) return `ssh user "${user}" is not a valid login name`;
  if (!(HOSTNAME.test(host) || isIP(host) !== 0)) return `ssh host "${host}" is not a host name or IP address`;
  const port = rawPort === undefined ? 22 : Number(rawPort);
  if (!isTcpPort(port)) return `ssh port must be ${TCP_PORT_RULE}`;
  return { kind: "ssh", uri, user: user!, host, port };
}

/**
 * Which engine a host address reaches, whatever the spelling: the ssh user does not change the engine,
 * host names are case-blind, 22 is the default port, and /var/run is /run on every current Linux.
 */
export function engineIdentity(h: DockerHost): string {
  if (h.kind === "unix") return `unix://${h.socket.replace(/^\/var\/run\//, "/run/")}`;
  const host = isIP(h.host) === 6 ? `[${h.host.toLowerCase()}]` : h.host.toLowerCase();
  return `ssh://${host}:${h.port}`;
}

export const dockerHost = parsedString(parseDockerHost);
export const dockerHostOf = (uri: string): DockerHost => parseOrThrow(parseDockerHost, "dockerHost", uri);
