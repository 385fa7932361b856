// Pulumi wiring: one command resource that applies the rule set's create script on create *and* update, and
// runs its delete script on destroy. Because `update` is set, a change of the script (port, allowlist) or
// of `reapplyOn` (the command's stdin, which the scripts never read) re-runs the atomic create in place: no
// moment without rules. Not `environment`: over ssh every entry is sent with Setenv, which a stock sshd
// refuses for any name outside AcceptEnv, and the command provider then fails the step.
// Not `triggers`: in @pulumi/command a trigger change REPLACES the resource, and replacement creates the
// new command before deleting the old one, whose delete script then removes the same tag's fresh rules.
// Tag and backend are part of the resource name, so changing either makes a new resource: Pulumi
// creates it (new rules) before deleting the old one (old tag's rules), which is the right order.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { remoteWrap } from "./ssh.js";
import { firewallRuleSet, type FirewallInput, type FirewallRuleSet } from "../firewall/rules.js";

export interface DeclareFirewallArgs {
  input: FirewallInput;
  /** SSH connection to a remote Docker host; absent = the machine running `pulumi up`. */
  connection?: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Re-apply (in place) whenever this value changes, e.g. a digest of the container's spec. */
  reapplyOn?: pulumi.Input<string>;
  /** Replace (apply on the new host, then remove from the old one) whenever this changes: the host's identity. */
  hostIdentity?: string;
  /** Run the scripts through `sudo -n` (a remote login user that is not root). */
  sudo?: boolean;
  /** The name prefix and parent the command had before (the backend and tag are appended as for `name`). */
  alias?: { name: string; parent: pulumi.Resource };
}

export interface DeclaredFirewall {
  command?: command.local.Command | command.remote.Command;
  preview: string;
  warnings: string[];
  rules: FirewallRuleSet;
}

export function declareFirewall(
  name: string,
  args: DeclareFirewallArgs,
  opts: pulumi.CustomResourceOptions = {},
): DeclaredFirewall {
  const rules = firewallRuleSet(args.input);
  const { preview, warnings } = rules;
  if (rules.settings.backend === "none") {
    for (const w of warnings) pulumi.log.warn(w);
    return { preview, warnings, rules };
  }
  const suffix = `${rules.settings.backend}-${rules.settings.tag}`;
  const resourceName = `${name}-${suffix}`;
  if (args.alias)
    opts = {
      ...opts,
      aliases: [...(opts.aliases ?? []), { name: `${args.alias.name}-${suffix}`, parent: args.alias.parent }],
    };
  // The value only has to reach the resource's inputs; the scripts never read their stdin.
  const stdin = args.reapplyOn === undefined ? undefined : pulumi.output(args.reapplyOn).apply((v) => `${v}\n`);
  // A new host: the rules go on there first, then the old host's are removed with the old connection.
  if (args.hostIdentity !== undefined) opts = { ...opts, replacementTrigger: args.hostIdentity };
  const common = { stdin, addPreviousOutputInEnv: false };
  if (args.connection !== undefined) {
    const create = remoteWrap(rules.createScript, args.sudo);
    const cmd = new command.remote.Command(
      resourceName,
      {
        connection: args.connection,
        create,
        update: create,
        delete: remoteWrap(rules.deleteScript, args.sudo),
        ...common,
      },
      opts,
    );
    return { command: cmd, preview, warnings, rules };
  }
  const wrap = (s: string) => (args.sudo ? remoteWrap(s, true) : s);
  const cmd = new command.local.Command(
    resourceName,
    {
      interpreter: ["/bin/sh", "-c"],
      create: wrap(rules.createScript),
      update: wrap(rules.createScript),
      delete: wrap(rules.deleteScript),
      ...common,
    },
    opts,
  );
  return { command: cmd, preview, warnings, rules };
}
