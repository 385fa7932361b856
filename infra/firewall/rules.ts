// Pure: (tag, port, allowlist, backend) -> rule set, create/delete/status scripts and a preview.
// No I/O here; the operator CLI's runner (tools/firewall/runner.ts) and the command resource (infra/docker/firewall.ts)
// only execute the scripts.
import { isIP } from "node:net";
import { z } from "zod";
import { parseCidr, type Cidr } from "./cidr.js";
import { iptablesRules, iptablesScripts, type IptablesRule } from "./iptables.js";
import { nftRuleset, nftScripts } from "./nftables.js";
import { TCP_PORT_MAX, TCP_PORT_MIN, TCP_PORT_RULE } from "../../lib/tcp-port.js";

/**
 * Tag: starts alphanumeric (so it never reads as an option), 128 chars max: room for project, a stack
 * name of up to 100 characters and the port, within iptables' 256-byte comments and nft's names.
 */
export const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const cidrEntry = z.string().transform((raw, ctx) => {
  try {
    return parseCidr(raw).text;
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
    return z.NEVER;
  }
});

const PORT_EXAMPLE = `must be ${TCP_PORT_RULE}, e.g. 7860`;

export const FirewallInputSchema = z.object({
  tag: z
    .string()
    .regex(
      TAG_PATTERN,
      "use 1-128 characters from A-Z a-z 0-9 _ . - starting with a letter or digit, e.g. sdwebui.prod.7860",
    ),
  port: z
    .number({ error: `must be ${TCP_PORT_RULE}: the host port the WebUI is published on, e.g. 7860` })
    .int(PORT_EXAMPLE)
    .min(TCP_PORT_MIN, PORT_EXAMPLE)
    .max(TCP_PORT_MAX, PORT_EXAMPLE),
  /** The address the port is published on (the container's bindAddress): IPv6 rules only for an IPv6 one. */
  bindAddress: z
    .string()
    .refine((s) => isIP(s) !== 0, "must be the IP address the port is published on, e.g. 0.0.0.0 or ::")
    .default("0.0.0.0"),
  /** IPv4/IPv6 networks allowed to reach the port. Empty = deny every remote client. */
  allowlist: z.array(cidrEntry).default([]),
  backend: z
    .enum(["iptables", "nftables", "none"], { error: 'must be "iptables" (default), "nftables" or "none"' })
    .default("iptables"),
  /** How long create waits for dockerd to create DOCKER-USER before failing (iptables backend). */
  waitForDockerSeconds: z.number().int().min(0).max(600, "must be 0-600 seconds").default(30),
});

export type FirewallInput = z.input<typeof FirewallInputSchema>;
export type FirewallSettings = z.output<typeof FirewallInputSchema>;

export interface FirewallRuleSet {
  settings: FirewallSettings;
  /** iptables backend: the rules in the order they end up in each chain; nftables: the ruleset text. */
  rules: { iptables: IptablesRule[]; nftables?: string };
  createScript: string;
  deleteScript: string;
  statusScript: string;
  preview: string;
  warnings: string[];
}

/** Validate (again) and normalise; throws an Error naming each bad field and how to fix it. */
export function parseFirewallInput(input: unknown): FirewallSettings {
  const r = FirewallInputSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  firewall.${i.path.join(".") || "(input)"}: ${i.message}`);
  throw new Error(`invalid firewall settings:\n${lines.join("\n")}`);
}

function split(allowlist: string[]): { v4: string[]; v6: string[] } {
  const seen = [...new Set(allowlist)].map((t) => parseCidr(t));
  const of = (f: 4 | 6) => seen.filter((c: Cidr) => c.family === f).map((c) => c.text);
  return { v4: of(4), v6: of(6) };
}

function describe(list: string[], family: string, port: number, published = true): string {
  if (!published)
    return `${family}: port ${port} is not published on ${family} (bindAddress is IPv4): no ${family} rules, so host services on that port are untouched`;
  return list.length === 0
    ? `${family}: deny every remote client to port ${port} (no ${family} networks in the allowlist)`
    : `${family}: allow ${list.join(", ")} to port ${port}; deny every other remote client`;
}

export function firewallRuleSet(input: FirewallInput): FirewallRuleSet {
  const settings = parseFirewallInput(input);
  const { tag, port, backend, bindAddress } = settings;
  const { v4, v6 } = split(settings.allowlist);
  const ipv6 = isIP(bindAddress) === 6 ? { dest: bindAddress === "::" ? undefined : bindAddress } : undefined;
  const warnings: string[] = [];
  if (v4.includes("0.0.0.0/0") || v6.includes("::/0")) {
    warnings.push(
      `firewall: the allowlist contains ${v4.includes("0.0.0.0/0") ? "0.0.0.0/0" : "::/0"}, which opens port ${port} to every client of that family`,
    );
  }
  const host = "traffic from the Docker host itself (loopback, its own addresses) is never filtered";

  if (backend === "none") {
    warnings.push(
      `firewall: backend "none": no rules are applied, port ${port} is reachable by anyone who can route to this host. ` +
        `Set backend to "iptables" (default) or "nftables" to restrict it.`,
    );
    return {
      settings,
      rules: { iptables: [] },
      createScript: "",
      deleteScript: "",
      statusScript: "",
      preview: `firewall disabled (backend none): port ${port} is open to every client`,
      warnings,
    };
  }

  const emptyNote =
    settings.allowlist.length === 0 ? ` — deny every remote client to port ${port} (empty allowlist)` : "";
  const preview = [
    `firewall ${backend}, tag ${tag}, port ${port}${emptyNote}`,
    `  ${describe(v4, "IPv4", port)}`,
    `  ${describe(v6, "IPv6", port, ipv6 !== undefined)}`,
    `  note: ${host}`,
  ].join("\n");

  if (backend === "nftables") {
    const ruleset = nftRuleset(tag, port, v4, v6, ipv6);
    return { settings, rules: { iptables: [], nftables: ruleset }, ...nftScripts(tag, ruleset), preview, warnings };
  }
  const rules = iptablesRules(tag, port, v4, v6, ipv6);
  return {
    settings,
    rules: { iptables: rules },
    ...iptablesScripts(tag, rules, settings.waitForDockerSeconds),
    preview,
    warnings,
  };
}
