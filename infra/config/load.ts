// Reads the stack configuration from Pulumi and validates it in one go. The secrets leave this module
// only as Pulumi secret Outputs; the rest is plain, validated data.
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, RawSettings, SECRET_KEYS } from "./schema.js";
import type { PublicSettings } from "./schema.js";
import { ConfigError, validateSettings } from "./validate.js";

export interface StackConfig {
  settings: PublicSettings;
  secrets: {
    apiPassword: pulumi.Output<string>;
    uiPassword?: pulumi.Output<string>;
    sshPrivateKey?: pulumi.Output<string>;
    checkpointToken?: pulumi.Output<string>;
    kubeconfig?: pulumi.Output<string>;
    tlsCertificate?: pulumi.Output<string>;
    tlsKey?: pulumi.Output<string>;
  };
}

/** Raw values of every `<project>:*` key, as the engine hands them to the program. */
export function readRawSettings(project = pulumi.getProject()): RawSettings {
  const raw: RawSettings = {};
  const prefix = `${project}:`;
  for (const [k, v] of Object.entries(pulumi.runtime.allConfig()))
    if (k.startsWith(prefix)) raw[k.slice(prefix.length)] = v;
  return raw;
}

// The SDK exports isConfigSecret at run time but marks it internal in its types.
const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };

export function loadStackConfig(): StackConfig {
  const project = pulumi.getProject();
  if (project !== PROJECT)
    throw new Error(
      `this program belongs to the Pulumi project "${PROJECT}" (found "${project}"); keep name: ${PROJECT} in Pulumi.yaml`,
    );
  const raw = readRawSettings(project);
  const { settings, secrets } = asRunError(() =>
    validateSettings(raw, (k) => runtime.isConfigSecret?.(`${project}:${k}`) ?? false, pulumi.getStack()),
  );
  const wrap = (v: string | undefined) => (v === undefined ? undefined : pulumi.secret(v));
  for (const k of SECRET_KEYS) delete raw[k];
  return {
    settings,
    secrets: {
      apiPassword: pulumi.secret(secrets.apiPassword),
      uiPassword: wrap(secrets.uiPassword),
      sshPrivateKey: wrap(secrets.sshPrivateKey),
      checkpointToken: wrap(secrets.checkpointToken),
      kubeconfig: wrap(secrets.kubeconfig),
      tlsCertificate: wrap(secrets.tlsCertificate),
      tlsKey: wrap(secrets.tlsKey),
    },
  };
}

/**
 * A ConfigError as a pulumi.RunError: the engine then prints the message alone, as a user-facing error,
 * instead of "unhandled exception" with a stack trace and the error object's fields.
 */
function asRunError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) {
      const error = new pulumi.RunError(e.message);
      // The SDK also formats every uncaught error with util.inspect, source maps and all: ~25 s of CPU
      // for a stack through @pulumi/pulumi on 2 cores. The frames say nothing to the user, so drop them.
      error.stack = `${error.name}: ${error.message}`;
      throw error;
    }
    throw e;
  }
}
