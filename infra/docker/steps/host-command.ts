// A script of the program run on a Docker host as a command resource: a local command for the engine of
// the machine running `pulumi up`, a remote one over ssh for an ssh:// host (always sh; `sudo -n` for a
// login that is not root when the script needs root).
import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { DockerHost } from "../../config/docker-host.js";
import { remoteWrap } from "../ssh.js";

export type HostCommand = command.local.Command | command.remote.Command;

/** The host a command runs on, and the ssh connection to it when it is remote. */
export interface HostTarget {
  host: DockerHost;
  connection?: command.types.input.remote.ConnectionArgs;
}

export interface HostCommandArgs {
  create: string;
  /** Run on an update of the resource (a change of any input); absent: an update runs nothing. */
  update?: string;
  sudo: boolean;
  /** Secret material for the script, never on its command line. */
  stdin?: pulumi.Input<string>;
}

export function hostCommand(
  name: string,
  target: HostTarget,
  a: HostCommandArgs,
  opts: pulumi.CustomResourceOptions,
): HostCommand {
  const stdin = a.stdin === undefined ? {} : { stdin: a.stdin };
  // The previous run's output is not needed; over ssh it would go out by Setenv, refused with a warning.
  const common = { ...stdin, addPreviousOutputInEnv: false };
  const { host, connection } = target;
  if (connection && host.kind === "ssh") {
    const wrap = (s: string) => remoteWrap(s, a.sudo && host.user !== "root");
    return new command.remote.Command(
      name,
      { connection, create: wrap(a.create), ...(a.update ? { update: wrap(a.update) } : {}), ...common },
      opts,
    );
  }
  return new command.local.Command(
    name,
    { create: a.create, ...(a.update ? { update: a.update } : {}), interpreter: ["/bin/sh", "-c"], ...common },
    opts,
  );
}
