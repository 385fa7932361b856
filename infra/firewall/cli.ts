// Operator command outside `pulumi up`:
//   npm run firewall -- plan|apply|delete|status --tag <t> --port <p> [--allow <cidr>]... [--bind <address>] [--backend iptables|nftables] [--wait <s>]
// plan prints the create script (stdout) and the preview (stderr) and touches nothing.
// Exit codes: 0 ok, 1 the script failed, 2 bad command line.
import { parseArgs } from "node:util";
import { FirewallInputSchema, firewallPlan } from "./rules.js";
import { applyFirewall, deleteFirewall, firewallStatus } from "./runner.js";

const USAGE = `usage: npm run firewall -- <plan|apply|delete|status> --tag <tag> --port <port> [--allow <cidr>]... [--bind <address>] [--backend iptables|nftables|none] [--wait <seconds>]
  plan    print the script that apply would run (touches nothing)
  apply   replace this tag's rules atomically (idempotent)
  delete  remove exactly this tag's rules (nothing to remove is success)
  status  list the live rules carrying this tag, with counters
  --allow may be repeated; no --allow means deny every remote client.
  --bind  the address the port is published on (default 0.0.0.0); IPv6 rules only for an IPv6 one, e.g. ::`;

const FLAG: Record<string, string> = { tag: "--tag", port: "--port", bindAddress: "--bind", allowlist: "--allow", backend: "--backend", waitForDockerSeconds: "--wait" };

export class UsageError extends Error {}

const toInt = (v: string | undefined): number | undefined => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : Number.NaN);

/** Parse argv (without node and script) into an action and a plan; throws UsageError naming the flag. */
export function parseCli(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tag: { type: "string" }, port: { type: "string" }, allow: { type: "string", multiple: true },
        bind: { type: "string" }, backend: { type: "string" }, wait: { type: "string" }, help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const action = positionals[0];
  if (values.help) throw new UsageError(USAGE);
  if (!action || !["plan", "apply", "delete", "status"].includes(action) || positionals.length > 1) {
    throw new UsageError(`expected exactly one action: plan, apply, delete or status (got ${positionals.join(" ") || "none"})\n${USAGE}`);
  }
  if (values.tag === undefined) throw new UsageError(`--tag is required: the stack's tag, e.g. --tag sdwebui-prod\n${USAGE}`);
  if (values.port === undefined) throw new UsageError(`--port is required: the published host port, e.g. --port 7860\n${USAGE}`);
  const input = {
    tag: values.tag, port: toInt(values.port), bindAddress: values.bind, allowlist: values.allow ?? [],
    backend: values.backend, waitForDockerSeconds: toInt(values.wait),
  };
  const r = FirewallInputSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const [field, index] = i.path;
      const which = field === "allowlist" && typeof index === "number" ? ` (${values.allow?.[index]})` : "";
      return `${FLAG[String(field)] ?? String(field)}${which}: ${i.message}`;
    });
    throw new UsageError(lines.join("\n"));
  }
  return { action: action as "plan" | "apply" | "delete" | "status", plan: firewallPlan(r.data) };
}

export function main(argv: string[]): number {
  let cmd;
  try {
    cmd = parseCli(argv);
  } catch (e) {
    process.stderr.write(`firewall: ${(e as Error).message}\n`);
    return 2;
  }
  const { action, plan } = cmd;
  for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);
  if (action === "plan") {
    process.stderr.write(`${plan.preview}\n`);
    process.stdout.write(plan.createScript);
    return 0;
  }
  try {
    const run = action === "apply" ? applyFirewall : action === "delete" ? deleteFirewall : firewallStatus;
    const r = run(plan);
    process.stderr.write(r.stderr);
    process.stdout.write(r.stdout);
    if (action === "apply") process.stderr.write(`${plan.preview}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
