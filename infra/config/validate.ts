// Validation of the whole stack configuration at once: every problem is collected, then reported in
// ONE error that names each key, shows its value (never a secret's) and says how to fix it.
import { z } from "zod";
import { extraArgProblems } from "./extra-args.js";
import { containerGpus } from "./container-gpus.js";
import { escapeControl, pathText, shownValue, type ValuePath } from "./display.js";
import { isTrue, parseJsonText } from "./fields.js";
import { type DockerHost, engineIdentity, parseDockerHost } from "./docker-host.js";
import { commandHostKey, knownHostsFor } from "./known-hosts.js";
import { CUSTOM_REQUIRED } from "../webui/profiles.js";
import { sourceFolderProblems } from "./checkpoints.js";
import { targetProblems } from "./kubernetes.js";
import { parseHostEntry } from "./hosts.js";
import { tlsProblems } from "./tls.js";
import { PROJECT, RawSettings, SECRET_KEYS, SETTING_KEYS, settingDefault, SettingsSchema } from "./schema.js";
import { rmPathCommand, setCommand, setFix, setPathCommand } from "./fix-commands.js";
import type { PublicSettings, SecretKey, SecretSettings } from "./schema.js";
import { TCP_PORT_MAX } from "../../lib/tcp-port.js";

export interface Problem {
  key: string;
  /** Where in the key's value the problem is (a list item, a field); absent: the whole value. */
  path?: ValuePath;
  message: string;
  fix: string;
}

export class ConfigError extends Error {
  readonly problems: Problem[];
  constructor(
    problems: Problem[],
    namespace: string,
    raw: RawSettings,
    isStoredSecret: (key: string) => boolean = () => false,
  ) {
    super(formatProblems(problems, namespace, raw, isStoredSecret));
    // Keys and messages may carry what the user wrote (an unknown key, a decoded file name): never raw to a terminal.
    this.problems = problems.map((p) => ({
      ...p,
      key: escapeControl(p.key),
      message: escapeControl(p.message),
      fix: escapeControl(p.fix),
    }));
    this.name = "ConfigError";
  }
}

const isSecretKey = (key: string): key is SecretKey => (SECRET_KEYS as readonly string[]).includes(key);

function formatProblems(
  problems: Problem[],
  ns: string,
  raw: RawSettings,
  isStoredSecret: (key: string) => boolean = () => false,
): string {
  const lines = [
    `${ns}: the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was deployed or changed.`,
  ];
  for (const p of problems) {
    // Never a secret's value (by name, or stored encrypted under any key).
    const value = shownValue(raw, p.key, isSecretKey(p.key) || isStoredSecret(p.key), p.path);
    lines.push(`  - ${ns}:${escapeControl(p.key + pathText(p.path ?? []))} = ${value}: ${escapeControl(p.message)}`);
    lines.push(`      fix: ${escapeControl(p.fix.replaceAll("<ns>", ns))}`);
  }
  return lines.join("\n");
}

/** Checks that involve more than one key; they see the raw values, so they run even when other keys are bad. */
function crossProblems(raw: RawSettings, stack: string | undefined): Problem[] {
  return [
    ...profileProblems(raw),
    ...folderProblems(raw),
    ...flagProblems(raw),
    ...checkpointProblems(raw),
    ...hostProblems(raw),
    ...exposureProblems(raw),
    ...targetProblems(raw, (k) => isDefaultValue(raw, k), stack),
    ...tlsProblems(raw, (k) => isDefaultValue(raw, k), rawDockerHosts),
  ];
}

/** Whether a raw value is the setting's default, read by the setting's own schema (so "7860" is 7860). */
function isDefaultValue(raw: RawSettings, key: string): boolean {
  if (raw[key] === undefined) return true;
  const field = (SettingsSchema.shape as Record<string, z.ZodType>)[key];
  const parsed = field?.safeParse(raw[key]);
  return parsed?.success === true && JSON.stringify(parsed.data) === JSON.stringify(field!.parse(undefined));
}

type Add = (key: string, message: string, fix: string) => void;
function collect(fn: (add: Add) => void): Problem[] {
  const out: Problem[] = [];
  fn((key, message, fix) => out.push({ key, message, fix }));
  return out;
}

/** A custom profile needs its keys; the profile keys mean nothing with a preset. */
const profileProblems = (raw: RawSettings) =>
  collect((add) => {
    if (raw.imageProfile !== "custom") {
      for (const k of Object.keys(raw).filter((k) => k.startsWith("profile") && raw[k] !== undefined))
        add(
          k,
          "is only used with imageProfile: custom",
          `pulumi config rm <ns>:${k}, or pulumi config set <ns>:imageProfile custom`,
        );
      return;
    }
    if (raw.image === undefined)
      add("image", "is required with imageProfile: custom (there is no default image)", setFix("image"));
    for (const k of CUSTOM_REQUIRED)
      if (raw[k] === undefined) add(k, "is required with imageProfile: custom", setFix(k));
    if (raw.profileFlagsVia === "env" && raw.profileFlagsEnvVar === undefined)
      add(
        "profileFlagsEnvVar",
        "is required when profileFlagsVia is env (e.g. CLI_ARGS)",
        setFix("profileFlagsEnvVar"),
      );
    if (raw.profileFlagsVia === "command" && raw.profileCommandPrefix === undefined)
      add(
        "profileCommandPrefix",
        "is required when profileFlagsVia is command (e.g. [bash, webui.sh])",
        setPathCommand("profileCommandPrefix", [0], "bash"),
      );
  });

const folderProblems = (raw: RawSettings) =>
  collect((add) => {
    const outputs = typeof raw.outputsDir === "string" ? raw.outputsDir : settingDefault("outputsDir");
    const models = typeof raw.modelsDir === "string" ? raw.modelsDir : settingDefault("modelsDir");
    if (outputs === models || outputs.startsWith(`${models}/`) || models.startsWith(`${outputs}/`))
      add(
        "modelsDir",
        `must be a folder apart from outputsDir (${outputs}); neither may contain the other`,
        setFix("modelsDir"),
      );
  });

/** extraArgs against the settings they depend on, and passwords a flags-variable image would expand. */
const flagProblems = (raw: RawSettings) =>
  collect((add) => {
    const extra = z.array(z.string()).safeParse(parseJsonText(raw.extraArgs ?? []));
    if (extra.success) {
      const ctx = {
        allowInsecureFlags: isTrue(raw.allowInsecureFlags),
        checkpointsDeclared: jsonList(raw.checkpoints).length > 0,
        ...containerGpus(raw),
      };
      for (const m of extraArgProblems(extra.data, ctx)) add("extraArgs", m, setFix("extraArgs"));
    }
    // sd-auto style images put the flags in an env var that a shell word-splits and glob-expands.
    const envMode = raw.imageProfile === "sd-auto" || (raw.imageProfile === "custom" && raw.profileFlagsVia === "env");
    if (envMode)
      for (const k of ["apiPassword", "uiPassword"] as const)
        if (typeof raw[k] === "string" && /['"\\$`*?[\]{}~;&|<>()#!]/.test(raw[k] as string))
          add(
            k,
            "contains a character that the shell in this image would expand in its flags variable (quotes, \\ $ ` * ? [ ] { } ~ ; & | < > ( ) # !); use letters, digits and + / = - _ . @ %",
            setFix(k),
          );
  });

/** Scale-out hosts: each engine once, room for the ports; ssh hosts need pinned keys. */
const hostProblems = (raw: RawSettings) =>
  collect((add) => {
    const host = typeof raw.dockerHost === "string" ? parseDockerHost(raw.dockerHost) : undefined;
    const hosts = z.array(z.string()).safeParse(parseJsonText(raw.hosts ?? []));
    const hostList = hosts.success ? hosts.data : [];
    const anySsh = hostList.some((h) => h.startsWith("ssh://")) || (typeof host === "object" && host.kind === "ssh");
    if (hostList.length > 0) {
      // Pulumi.yaml's declared defaults reach the program as if set: only a value other than the default counts.
      for (const k of ["dockerHost", "gpus", "containerName"] as const)
        if (!isDefaultValue(raw, k))
          add(
            k,
            "is not used with hosts (each hosts entry names its Docker host and GPUs)",
            `pulumi config rm <ns>:${k}`,
          );
      // One engine under two spellings would get two components on the same ports.
      const bare = hostList.map((h) => (h.includes("#") ? h.slice(0, h.lastIndexOf("#")) : h));
      const engines = bare.map((h) => {
        const parsed = parseDockerHost(h);
        return typeof parsed === "string" ? h : engineIdentity(parsed);
      });
      const second = engines.findIndex((e, i) => engines.indexOf(e) !== i);
      if (second >= 0) {
        const first = bare[engines.indexOf(engines[second]!)]!;
        const again =
          first === bare[second]
            ? `${first} twice`
            : `${first} and ${bare[second]}, which reach the same Docker engine`;
        add("hosts", `lists ${again}; give each host once with all its GPU ids`, setFix("hosts"));
      }
      const most = Math.max(
        ...hostList.map((h) =>
          h.includes("#cpu:") ? Number(h.split("#cpu:")[1]) : h.slice(h.lastIndexOf("#") + 1).split(",").length,
        ),
      );
      const port = Number(raw.hostPort ?? settingDefault("hostPort"));
      if (Number.isInteger(port) && port + most - 1 > TCP_PORT_MAX)
        add(
          "hostPort",
          `leaves no room for ${most} consecutive ports (hostPort + n - 1 must be at most ${TCP_PORT_MAX})`,
          setFix("hostPort"),
        );
    }
    // command resources skip host-key checks without a pinned key, and they run as root on the host.
    if (anySsh && raw.sshKnownHosts === undefined)
      add(
        "sshKnownHosts",
        "is required with an ssh:// host: it pins the host key for the Docker connection and every command run over ssh",
        'pulumi config set <ns>:sshKnownHosts "$(ssh-keyscan -p <port> <host> | grep ed25519)" (compare the fingerprint out of band)',
      );
    for (const k of ["sshPrivateKey", "sshKnownHosts"] as const)
      if (!anySsh && raw[k] !== undefined)
        add(k, "is only used with an ssh:// dockerHost", `pulumi config rm <ns>:${k}`);
    if (anySsh && typeof raw.sshKnownHosts === "string") {
      const sshHosts = [
        ...(typeof host === "object" && host.kind === "ssh" && hostList.length === 0 ? [host] : []),
        ...hostList.map((h) => parseDockerHost(h.includes("#") ? h.slice(0, h.lastIndexOf("#")) : h)),
      ].filter((h): h is Extract<DockerHost, { kind: "ssh" }> => typeof h === "object" && h.kind === "ssh");
      for (const h of sshHosts) {
        let lines: string | undefined;
        try {
          lines = knownHostsFor(raw.sshKnownHosts, h.host);
        } catch {
          continue; // the schema names the bad line
        }
        if (lines !== undefined && !commandHostKey(lines))
          add(
            "sshKnownHosts",
            `pins only an ssh-rsa key for ${h.host}: the command resources' ssh client then offers the host only ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse`,
            `pulumi config set <ns>:sshKnownHosts "$(ssh-keyscan -t ed25519 -p ${h.port} ${h.host})" (pins the host's ed25519 key; compare its fingerprint out of band)`,
          );
      }
    }
  });

const exposureProblems = (raw: RawSettings) =>
  collect((add) => {
    if (raw.exposure === "api-only")
      for (const k of ["uiUsername", "uiPassword"] as const)
        if (raw[k] !== undefined)
          add(k, "is not used with exposure: api-only (there is no UI)", `pulumi config rm <ns>:${k}`);
  });

/** The stack's Docker hosts as far as the raw values tell: each hosts entry, else dockerHost (the ssh host, if any, of each). */
function rawDockerHosts(raw: RawSettings): { sshHost?: string }[] {
  const entries = z.array(z.string()).safeParse(parseJsonText(raw.hosts ?? [])).data ?? [];
  const hosts =
    entries.length > 0
      ? entries.map((e) => {
          const r = parseHostEntry(e);
          return typeof r === "string" ? undefined : r.host;
        })
      : [typeof raw.dockerHost === "string" ? parseDockerHost(raw.dockerHost) : undefined];
  return hosts.map((h) => (typeof h === "object" && h?.kind === "ssh" ? { sshHost: h.host } : {}));
}

/** A list setting's entries as far as they are readable (for rules across keys; the schema reports the rest). */
function jsonList(v: unknown): unknown[] {
  const list = parseJsonText(v ?? []);
  return Array.isArray(list) ? list : [];
}

/**
 * The token and the entries that use it must come together; the list itself is not a secret; a host-path
 * source must lie outside the folders the containers write.
 */
function checkpointProblems(raw: RawSettings): Problem[] {
  const out: Problem[] = [];
  const entries = jsonList(raw.checkpoints);
  const written = (["modelsDir", "outputsDir"] as const).map((key) => ({
    key,
    path: typeof raw[key] === "string" ? (raw[key] as string) : settingDefault(key),
  }));
  for (const message of sourceFolderProblems(entries, written))
    out.push({ key: "checkpoints", message, fix: setFix("checkpoints") });
  const usesToken = entries.some(
    (e) => typeof e === "object" && e !== null && isTrue((e as Record<string, unknown>).useToken),
  );
  if (usesToken && raw.checkpointToken === undefined)
    out.push({
      key: "checkpointToken",
      message: "is required: a checkpoints entry has useToken: true",
      fix: setFix("checkpointToken"),
    });
  if (!usesToken && raw.checkpointToken !== undefined)
    out.push({
      key: "checkpointToken",
      message: "is not used: no checkpoints entry has useToken: true",
      fix: `pulumi config rm <ns>:checkpointToken${entries.length > 0 ? `, or ${setPathCommand("checkpoints", ["<i>", "useToken"], "true")} for each entry <i> that needs it` : ""}`,
    });
  return out;
}

function schemaProblems(raw: RawSettings): Problem[] {
  const r = SettingsSchema.safeParse(raw);
  if (r.success) return [];
  const out: Problem[] = [];
  for (const issue of r.error.issues) {
    if (issue.code === "unrecognized_keys" && issue.path.length > 0) {
      // A field inside a list entry (checkpoints[0].size): the setting is the list, the item is where.
      const key = String(issue.path[0]);
      const path = issue.path.slice(1) as ValuePath;
      const fields = issue.keys.join(", ");
      out.push({
        key,
        path,
        message: `has no field ${fields}`,
        fix: issue.keys.map((f) => rmPathCommand(key, [...path, f])).join(", then "),
      });
      continue;
    }
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const near = SETTING_KEYS.find((k) => k.toLowerCase() === key.toLowerCase().replace(/[-_]/g, ""));
        const hint = near ? `; did you mean ${near}?` : ' (see README "Settings" for the names)';
        out.push({
          key,
          message: `is not a setting of this program${hint}`,
          fix: `pulumi config rm <ns>:${key}${near ? `, then ${setCommand(near)}` : ""}`,
        });
      }
      continue;
    }
    const key = String(issue.path[0] ?? "");
    const path = issue.path.slice(1) as ValuePath;
    const message = raw[key] === undefined ? "is required" : issue.message;
    // A bad map label is not fixed by setting its value: the fix then starts the map afresh.
    out.push({
      key,
      ...(path.length > 0 ? { path } : {}),
      message,
      fix: setFix(key, issue.code === "invalid_key" ? [] : path),
    });
  }
  return out;
}

/**
 * Validates raw settings. `isStoredSecret(key)` says whether Pulumi holds the key encrypted: a
 * password stored in plain text in the stack file is refused. `stack`: the stack's name, when known
 * (the names of the objects the program would make derive from it).
 */
export function validateSettings(
  raw: RawSettings,
  isStoredSecret: (key: string) => boolean,
  stack?: string,
): { settings: PublicSettings; secrets: SecretSettings } {
  const problems = [...schemaProblems(raw), ...crossProblems(raw, stack)];
  for (const k of SECRET_KEYS)
    if (raw[k] !== undefined && !isStoredSecret(k))
      problems.push({
        key: k,
        message: "is stored in plain text in the stack file",
        fix: `pulumi config set --secret <ns>:${k} <value> (it is encrypted then)`,
      });
  // The list reaches the placement script (and so the state) in plain text; only the token is secret.
  if (raw.checkpoints !== undefined && isStoredSecret("checkpoints"))
    problems.push({
      key: "checkpoints",
      message:
        "holds a value stored with --secret; the list is not secret (its sources and hashes are stored in plain text)",
      fix: "set the entries without --secret; put a token in checkpointToken (pulumi config set --secret <ns>:checkpointToken <token>) and set useToken: true on the entry",
    });
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const id = `${p.key}${pathText(p.path ?? [])}\n${p.message}`;
    return seen.has(id) ? false : (seen.add(id), true);
  });
  if (unique.length > 0) throw new ConfigError(unique, PROJECT, raw, isStoredSecret);
  const all = SettingsSchema.parse(raw);
  const { apiPassword, uiPassword, sshPrivateKey, checkpointToken, kubeconfig, tlsCertificate, tlsKey, ...settings } =
    all;
  return {
    settings,
    secrets: { apiPassword, uiPassword, sshPrivateKey, checkpointToken, kubeconfig, tlsCertificate, tlsKey },
  };
}
