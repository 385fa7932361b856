// The smoke step as a resource of the Pulumi program: a local Command running the compiled CLI with
// --json. It re-runs when `triggers` change (the lead passes the container and image ids), fails
// `pulumi up` when the proof fails (non-zero exit), and exposes the proven file path. Passwords and
// SSH key material reach the CLI only through environment entries marked secret.
import { relative, resolve } from "node:path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { onResource } from "./resource-error.js";
import { shellJoin } from "../../lib/shell.js";
import { parseCli } from "../../smoke/cli-flags.js";
import { SmokeError } from "../../smoke/errors.js";

/** The compiled smoke CLI: dist/smoke/cli.js once `npm ci` (or npm run build) has built it. */
export const SMOKE_CLI_FILE = resolve(__dirname, "../../smoke/cli.js");

/**
 * The CLI's path as the smoke command names it: relative to the working directory the engine gives both the
 * program and its plugins (the folder of Pulumi.yaml's main, dist/infra), because local.Command runs there
 * without `dir`. Relative, so that every checkout of the project (another machine, a CI runner) gives the
 * same command and no update.
 */
export function smokeCliPath(cwd = process.cwd()): string {
  return relative(cwd, SMOKE_CLI_FILE);
}

export const ENV = {
  apiPassword: "SD_SMOKE_API_PASSWORD",
  uiPassword: "SD_SMOKE_UI_PASSWORD",
  sshKey: "SD_SMOKE_SSH_KEY",
  knownHosts: "SD_SMOKE_SSH_KNOWN_HOSTS",
  tlsCa: "SD_SMOKE_TLS_CA",
} as const;

export interface SmokeSsh {
  user: string;
  host: string;
  port: number;
  privateKey?: pulumi.Input<string> /* secret */;
  /** known_hosts lines for the host (content, not a path). */
  knownHosts?: string;
}

export interface SmokeArgs {
  url: pulumi.Input<string>;
  username: pulumi.Input<string>;
  password: pulumi.Input<string> /* secret */;
  uiUsername?: pulumi.Input<string>;
  uiPassword?: pulumi.Input<string> /* secret */;
  exposure: "api-and-ui" | "api-only";
  hostOutputsDir: string;
  hostModelsDir: string;
  containerOutputsDir: string;
  containerDataRoot: string;
  expectedUid: number;
  timeoutSeconds: number;
  prompt: string;
  steps: number;
  width: number;
  height: number;
  ssh?: SmokeSsh;
  /** The declared checkpoints (name relative to the checkpoints folder) and the one loaded first. */
  checkpoints?: { name: string; sha256: string }[];
  loadedCheckpoint?: string;
  /** Kubernetes: the Deployment whose rollout the smoke first waits for, from inside the cluster. */
  kubernetesRollout?: { namespace: string; deployment: string; gpuResource: string; timeoutSeconds: number };
  /**
   * HTTPS through the TLS proxy: the root certificate(s) to pin (PEM; empty: the system's roots), the WebUI's
   * own port and the ACME HTTP port, which must offer no way around the proxy.
   */
  tls?: { ca: pulumi.Input<string>; plainPort: number; httpPort?: number; servername?: string };
  /** Container name or id: lets the smoke diagnose failures through the host's docker CLI. */
  container?: pulumi.Input<string>;
  triggers: pulumi.Input<unknown>[];
}

/** The smoke's settings that come from the stack and the image profile alone, alike on every target. */
export function proofSettings(
  settings: {
    smokeTimeoutSeconds: number;
    smokePrompt: string;
    smokeSteps: number;
    smokeWidth: number;
    smokeHeight: number;
  },
  profile: { outputsPath: string; dataRoot: string; uid: number },
) {
  return {
    containerOutputsDir: profile.outputsPath,
    containerDataRoot: profile.dataRoot,
    expectedUid: profile.uid,
    timeoutSeconds: settings.smokeTimeoutSeconds,
    prompt: settings.smokePrompt,
    steps: settings.smokeSteps,
    width: settings.smokeWidth,
    height: settings.smokeHeight,
  };
}

export interface ResolvedNames {
  url: string;
  username: string;
  uiUsername?: string;
  container?: string;
}

/**
 * The CLI's argument list (without `node <cli>`), validated by the CLI's own parser so that a bad
 * setting fails here with the same message. Secrets are referenced by variable name only.
 */
export function smokeCliArgs(
  a: Omit<SmokeArgs, "url" | "username" | "password" | "uiUsername" | "uiPassword" | "triggers" | "container">,
  n: ResolvedNames,
  hasUiPassword: boolean,
): string[] {
  const argv = [
    "--url",
    n.url,
    `--username=${n.username}`,
    "--password-env",
    ENV.apiPassword,
    "--exposure",
    a.exposure,
    "--outputs-dir",
    a.hostOutputsDir,
    "--models-dir",
    a.hostModelsDir,
    "--container-outputs-dir",
    a.containerOutputsDir,
    "--container-data-root",
    a.containerDataRoot,
    "--expected-uid",
    String(a.expectedUid),
    "--timeout",
    String(a.timeoutSeconds),
    // One token each: a value that starts with "-" must not be read as the next flag.
    `--prompt=${a.prompt}`,
    "--steps",
    String(a.steps),
    "--width",
    String(a.width),
    "--height",
    String(a.height),
  ];
  if (n.uiUsername !== undefined) argv.push(`--ui-username=${n.uiUsername}`);
  if (hasUiPassword) argv.push("--ui-password-env", ENV.uiPassword);
  if (n.container !== undefined) argv.push("--container", n.container);
  for (const c of a.checkpoints ?? []) argv.push(`--checkpoint=${c.name}=${c.sha256}`);
  if (a.loadedCheckpoint !== undefined) argv.push(`--loaded-checkpoint=${a.loadedCheckpoint}`);
  if (a.tls) {
    argv.push("--tls-ca-env", ENV.tlsCa, "--plain-port", String(a.tls.plainPort));
    if (a.tls.httpPort !== undefined) argv.push("--http-port", String(a.tls.httpPort));
    if (a.tls.servername !== undefined) argv.push("--tls-servername", a.tls.servername);
  }
  if (a.kubernetesRollout) {
    const k = a.kubernetesRollout;
    argv.push(
      "--kubernetes-rollout",
      `${k.namespace}/${k.deployment}`,
      "--gpu-resource",
      k.gpuResource,
      "--rollout-timeout",
      String(k.timeoutSeconds),
    );
  }
  if (a.ssh) {
    argv.push("--ssh-host", a.ssh.host, "--ssh-user", a.ssh.user, "--ssh-port", String(a.ssh.port));
    if (a.ssh.privateKey !== undefined) argv.push("--ssh-identity-env", ENV.sshKey);
    if (a.ssh.knownHosts !== undefined) argv.push("--ssh-known-hosts-env", ENV.knownHosts);
  }
  argv.push("--json");
  if (!a.hostOutputsDir.startsWith("/"))
    throw new SmokeError("usage", `smoke hostOutputsDir must be absolute (got "${a.hostOutputsDir}")`);
  if (!a.hostModelsDir.startsWith("/"))
    throw new SmokeError("usage", `smoke hostModelsDir must be absolute (got "${a.hostModelsDir}")`);
  parseCli(argv); // throws a SmokeError naming the flag when a value is out of range
  return argv;
}

/** The shell line local.Command runs. */
function smokeCommandLine(argv: string[]): string {
  return shellJoin(["node", smokeCliPath(), ...argv]);
}

export function declareSmoke(name: string, args: SmokeArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
  const create = pulumi
    .all([args.url, args.username, args.uiUsername, args.container])
    .apply(([url, username, uiUsername, container]) => {
      const line = () =>
        smokeCommandLine(smokeCliArgs(args, { url, username, uiUsername, container }, args.uiPassword !== undefined));
      return opts.parent ? onResource(opts.parent, line) : line();
    });
  const environment: Record<string, pulumi.Input<string>> = { [ENV.apiPassword]: pulumi.secret(args.password) };
  if (args.uiPassword !== undefined) environment[ENV.uiPassword] = pulumi.secret(args.uiPassword);
  if (args.ssh?.privateKey !== undefined) environment[ENV.sshKey] = pulumi.secret(args.ssh.privateKey);
  if (args.ssh?.knownHosts !== undefined) environment[ENV.knownHosts] = args.ssh.knownHosts;
  if (args.tls) environment[ENV.tlsCa] = args.tls.ca;
  return new command.local.Command(
    name,
    {
      create,
      environment,
      triggers: args.triggers,
      // The previous run's output is not needed, and keeping it out of the env keeps runs independent.
      addPreviousOutputInEnv: false,
    },
    opts,
  );
}

const SmokeStdoutSchema = z.looseObject({
  ok: z.literal(true),
  file: z.string().startsWith("/"),
  bytes: z.number().int().positive(),
  seed: z.number().int(),
  runId: z.string(),
});
export type SmokeStdout = z.infer<typeof SmokeStdoutSchema>;

/** Parse the CLI's --json line (the last non-empty stdout line). */
export function parseSmokeStdout(stdout: string): SmokeStdout {
  const last =
    stdout
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .pop() ?? "";
  let v: unknown;
  try {
    v = JSON.parse(last);
  } catch {
    throw new Error(`smoke output is not JSON: ${last.slice(0, 200)}`);
  }
  return SmokeStdoutSchema.parse(v);
}

/** The host path of the proven file, as an Output (for a stack output); output it cannot read fails on the smoke step. */
export function provenFile(smoke: command.local.Command): pulumi.Output<string> {
  return smoke.stdout.apply((s) => {
    try {
      return parseSmokeStdout(s).file;
    } catch (e) {
      throw new pulumi.ResourceError(
        `the smoke step's result cannot be read: ${e instanceof Error ? e.message : String(e)}`,
        smoke,
      );
    }
  });
}
