// First-run trap caught before the container is created: the host port already taken by something
// else. (Docker would fail with "bind: address already in use" and leave a Created container.) The
// preflight command runs this check and, for a host's first container, the image pull (image-pull.ts).
import { shellQuote } from "../../../lib/shell.js";

export interface PortCheckInput {
  port: number;
  /** Our own container may hold the port (a re-run); anything else may not. */
  containerName: string;
  /** ...nor may a container of this stack under another name (it is about to be replaced). */
  stackLabel: { project: string; stack: string };
  /** Resource-level name of the setting, for the message. */
  setting: string;
}

export function portCheckScript(input: PortCheckInput): string {
  if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) throw new Error(`preflight: "${input.port}" is not a TCP port`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(input.containerName)) throw new Error(`preflight: "${input.containerName}" is not a container name`);
  const name = shellQuote(input.containerName);
  for (const v of [input.stackLabel.project, input.stackLabel.stack])
    if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new Error(`preflight: "${v}" is not a project or stack name`);
  const label = shellQuote(`label=sdwebui.project=${input.stackLabel.project}`);
  const stackLabel = shellQuote(`label=sdwebui.stack=${input.stackLabel.stack}`);
  const next = input.port < 65535 ? input.port + 1 : input.port - 1;
  return `set -u
port=${input.port}
if ! command -v ss >/dev/null 2>&1; then
  echo "sdwebui preflight: ss (iproute2) is not installed, so port $port could not be checked" >&2
  exit 0
fi
listeners=$(ss -Hltnp "sport = :$port" 2>/dev/null || ss -Hltn "sport = :$port")
[ -z "$listeners" ] && { echo "port $port is free"; exit 0; }
owner=""
ours=""
if command -v docker >/dev/null 2>&1; then
  owner=$(docker ps --filter "publish=$port" --format '{{.Names}}' 2>/dev/null | head -n 1)
  ours=$(docker ps --filter "publish=$port" --filter ${label} --filter ${stackLabel} --format '{{.Names}}' 2>/dev/null | head -n 1)
fi
if [ "$owner" = ${name} ] || [ -n "$ours" ]; then echo "port $port is held by this stack's container $owner (it is replaced, not duplicated)"; exit 0; fi
echo "sdwebui preflight: port $port on this host is already in use by \${owner:+container $owner, }$(echo "$listeners" | head -n 1 | tr -s ' ')" >&2
echo "fix: choose another port (pulumi config set ${input.setting} ${next}) or stop what listens on $port" >&2
exit 1
`;
}

/** The preflight command's script: the port checks, then (for the host's first container) the image pull; each in its own subshell. */
export function preflightScript(portChecks: string[], imagePull?: string): string {
  const parts = [...portChecks, ...(imagePull === undefined ? [] : [imagePull])];
  return parts.map((p) => `(\n${p.trimEnd()}\n) || exit $?\n`).join("");
}
