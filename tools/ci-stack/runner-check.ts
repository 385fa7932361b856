// Checks made before Pulumi is touched: the state backend, the secrets passphrase, the built program.
// Every problem is collected and reported at once, each with its fix.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SMOKE_CLI_BUILT } from "../../smoke/built-path.js";

type Env = Record<string, string | undefined>;

export interface Backend {
  url: string;
  /** Local folder of a file:// backend (created if missing). */
  dir?: string;
  fromEnv: boolean;
}

/** PULUMI_BACKEND_URL, else a file backend in the project's .pulumi-state (as Pulumi.yaml declares). */
export function backendOf(env: Env, workDir: string): Backend {
  const given = env.PULUMI_BACKEND_URL?.trim();
  const url = given || pathToFileURL(join(workDir, ".pulumi-state")).href;
  const dir = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : undefined;
  return { url, dir, fromEnv: Boolean(given) };
}

export interface Preflight {
  problems: string[];
  warnings: string[];
  backend: Backend;
}

export interface PreflightFs {
  exists: (path: string) => boolean;
  read: (path: string) => string;
}

const realFs: PreflightFs = { exists: existsSync, read: (p) => readFileSync(p, "utf8") };

export function preflight(
  env: Env,
  workDir: string,
  o: { smokeEnabled: boolean; needBuild: boolean },
  fs: PreflightFs = realFs,
): Preflight {
  const problems: string[] = [];
  const warnings: string[] = [];
  const backend = backendOf(env, workDir);

  if (!fs.exists(join(workDir, "Pulumi.yaml")))
    problems.push(`${workDir} holds no Pulumi.yaml: run from the repository root or pass --work-dir`);

  // Pulumi Cloud keeps secrets with its own key; every other backend uses the passphrase provider.
  if (!backend.url.startsWith("https://")) {
    const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (env.PULUMI_CONFIG_PASSPHRASE === undefined && !file)
      problems.push(
        "PULUMI_CONFIG_PASSPHRASE is not set: the stack's secrets (the API password) are encrypted with it. " +
          "Set it from a CI secret (any long random string; the stack lives only for this run), or set PULUMI_CONFIG_PASSPHRASE_FILE",
      );
    else if (env.PULUMI_CONFIG_PASSPHRASE === "" && !file)
      problems.push(
        "PULUMI_CONFIG_PASSPHRASE is empty (an unset CI secret expands to an empty string): set the secret in the CI system",
      );
    else if (file && !fs.exists(file)) problems.push(`PULUMI_CONFIG_PASSPHRASE_FILE=${file}: no such file`);
  }

  if (o.needBuild) {
    if (!fs.exists(join(workDir, "dist/infra/index.js")))
      problems.push(
        "dist/infra/index.js is missing (Pulumi.yaml runs the compiled program): run npm ci or npm run build first",
      );
    if (o.smokeEnabled && !fs.exists(join(workDir, SMOKE_CLI_BUILT)))
      problems.push(`${SMOKE_CLI_BUILT} is missing (the smoke step runs it): run npm ci or npm run build first`);
  }

  // Some CLI versions let a backend.url in Pulumi.yaml win over PULUMI_BACKEND_URL: the stack would land elsewhere.
  if (backend.fromEnv && fs.exists(join(workDir, "Pulumi.yaml"))) {
    const m = /^backend:\s*\n\s+url:\s*(\S+)/m.exec(fs.read(join(workDir, "Pulumi.yaml")));
    if (m && m[1] !== backend.url)
      warnings.push(
        `PULUMI_BACKEND_URL=${backend.url} differs from Pulumi.yaml's backend.url (${m[1]}); depending on the CLI version the project file wins (pulumi/pulumi#7155)`,
      );
  }
  return { problems, warnings, backend };
}
