// Operator command outside `pulumi up`:
//   npm run firewall -- plan|apply|delete|status --tag <t> --port <p> [--allow <cidr>]... [--bind <address>] [--backend iptables|nftables] [--wait <s>]
// plan prints the create script (stdout) and the preview (stderr) and touches nothing.
// Exit codes: 0 ok, 1 the script failed, 2 bad command line.
import { z } from "zod";
import { cliTable, CliUsageError, flag, parseTable, usageText } from "../../lib/cli-table.js";
import { FirewallInputSchema, firewallRuleSet } from "../../infra/firewall/rules.js";
import { applyFirewall, deleteFirewall, firewallStatus } from "./runner.js";

const FIREWALL_CLI = cliTable({
  prog: "npm run firewall --",
  synopsis:
    "<plan|apply|delete|status> --tag <tag> --port <port> [--allow <cidr>]... [--bind <address>] [--backend iptables|nftables|none] [--wait <seconds>]",
  commands: {
    plan: "print the script that apply would run (touches nothing)",
    apply: "replace this tag's rules atomically (idempotent)",
    delete: "remove exactly this tag's rules (nothing to remove is success)",
    status: "list the live rules carrying this tag, with counters",
  },
  flags: {
    tag: flag(z.string(), { arg: "TAG", help: "the stack's rule tag, e.g. sdwebui.prod.7860" }),
    port: flag(z.string(), { arg: "PORT", help: "the published host port, e.g. 7860" }),
    allow: flag(z.array(z.string()).default([]), {
      arg: "CIDR",
      multiple: true,
      help: "a network allowed to reach the port; none means deny every remote client",
    }),
    bind: flag(z.string().optional(), {
      arg: "ADDRESS",
      help: "the address the port is published on (default 0.0.0.0); IPv6 rules only for an IPv6 one, e.g. ::",
    }),
    backend: flag(z.string().optional(), { arg: "NAME", help: "iptables, nftables or none (default iptables)" }),
    wait: flag(z.string().optional(), { arg: "SECONDS", help: "wait this long for Docker's chains to appear" }),
  },
});

const FLAG: Record<string, string> = {
  tag: "--tag",
  port: "--port",
  bindAddress: "--bind",
  allowlist: "--allow",
  backend: "--backend",
  waitForDockerSeconds: "--wait",
};

class UsageError extends Error {}

const toInt = (v: string | undefined): number | undefined =>
  v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : Number.NaN;

/** Parse argv (without node and script) into an action and a rule set; throws UsageError naming the flag. */
export function parseCli(argv: string[]) {
  let parsed;
  try {
    parsed = parseTable(FIREWALL_CLI, argv);
  } catch (e) {
    if (e instanceof CliUsageError) throw new UsageError(e.message);
    throw e;
  }
  if (parsed.help) throw new UsageError(usageText(FIREWALL_CLI));
  const values = parsed.values;
  const input = {
    tag: values.tag,
    port: toInt(values.port),
    bindAddress: values.bind,
    allowlist: values.allow,
    backend: values.backend,
    waitForDockerSeconds: toInt(values.wait),
  };
  const r = FirewallInputSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const [field, index] = i.path;
      const which = field === "allowlist" && typeof index === "number" ? ` (${values.allow[index]})` : "";
      return `${FLAG[String(field)] ?? String(field)}${which}: ${i.message}`;
    });
    throw new UsageError(lines.join("\n"));
  }
  return { action: parsed.command as "plan" | "apply" | "delete" | "status", rules: firewallRuleSet(r.data) };
}

export function main(argv: string[]): number {
  let cmd;
  try {
    cmd = parseCli(argv);
  } catch (e) {
    process.stderr.write(`firewall: ${(e as Error).message}\n`);
    return 2;
  }
  const { action, rules } = cmd;
  for (const w of rules.warnings) process.stderr.write(`warning: ${w}\n`);
  if (action === "plan") {
    process.stderr.write(`${rules.preview}\n`);
    process.stdout.write(rules.createScript);
    return 0;
  }
  try {
    const run = action === "apply" ? applyFirewall : action === "delete" ? deleteFirewall : firewallStatus;
    const r = run(rules);
    process.stderr.write(r.stderr);
    process.stdout.write(r.stdout);
    if (action === "apply") process.stderr.write(`${rules.preview}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
