// First-run trap caught before the container is created: the host port already taken by something
// else. (Docker would fail with "bind: address already in use" and leave a Created container.) The
// preflight command runs this check (port-check.sh) and, for a host's first container, the image pull
// (image-pull.ts).
import { hostScript } from "./host-script.js";
import { isTcpPort, TCP_PORT_RULE } from "../../../lib/tcp-port.js";

export interface PortCheckInput {
  port: number;
  /** Our own container may hold the port (a re-run); anything else may not. */
  containerName: string;
  /** ...nor may a container of this stack under another name (it is about to be replaced). */
  stackLabel: { project: string; stack: string };
  /** Resource-level name of the setting, for the message. */
  setting: string;
}

/** port-check.sh with its inputs, checked again here: this is the boundary to the shell. */
export function portCheckScript(input: PortCheckInput): string {
  if (!isTcpPort(input.port)) throw new Error(`preflight: "${input.port}" is not ${TCP_PORT_RULE}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(input.containerName))
    throw new Error(`preflight: "${input.containerName}" is not a container name`);
  const { project, stack } = input.stackLabel;
  for (const v of [project, stack])
    if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new Error(`preflight: "${v}" is not a project or stack name`);
  return hostScript("port-check.sh", [input.port, input.containerName, project, stack, input.setting]);
}

/** The preflight command's script: the port checks, then (for the host's first container) the image pull; each in its own subshell. */
export function preflightScript(portChecks: string[], imagePull?: string): string {
  const parts = [...portChecks, ...(imagePull === undefined ? [] : [imagePull])];
  return parts.map((p) => `(\n${p.trimEnd()}\n) || exit $?\n`).join("");
}
