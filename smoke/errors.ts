// Failure classes of the smoke step. Each class has its own exit code (documented in smoke/README.md)
// so that scripts and `pulumi up` logs tell the cause apart without parsing messages.

export const FAILURES = {
  usage: { exit: 2, title: "bad smoke settings" },
  internal: { exit: 3, title: "unexpected error in the smoke step" },
  unreachable: { exit: 10, title: "API address unreachable" },
  firewall: { exit: 11, title: "connection times out (firewall)" },
  "listen-localhost": { exit: 12, title: "WebUI listens on 127.0.0.1 only" },
  "api-disabled": { exit: 13, title: "API not enabled" },
  unauthorized: { exit: 14, title: "credentials refused" },
  "no-checkpoint": { exit: 15, title: "no checkpoint installed" },
  "model-timeout": { exit: 16, title: "timed out waiting for the model" },
  "generation-failed": { exit: 17, title: "generation failed" },
  "bad-response": { exit: 18, title: "unexpected API response" },
  "unsupported-settings": { exit: 19, title: "WebUI save settings the smoke cannot follow" },
  "saved-nowhere": { exit: 20, title: "image saved nowhere on the host" },
  "saved-in-container": { exit: 21, title: "image saved only inside the container" },
  "data-root-mismatch": { exit: 22, title: "image data root does not match the profile" },
  "bad-png": { exit: 23, title: "corrupt or mismatched PNG" },
  "permission-denied": { exit: 24, title: "permission denied on the host folder" },
  "host-access": { exit: 25, title: "cannot access the Docker host" },
  "surface-open": { exit: 30, title: "a surface is open without credentials" },
  "file-serve": { exit: 31, title: "/file= does not serve the proven file" },
} as const;

export type FailureClass = keyof typeof FAILURES;

/** A classified failure: `message` names what happened and the fix. Never carries a secret. */
export class SmokeError extends Error {
  readonly failure: FailureClass;
  readonly details: string[];
  constructor(failure: FailureClass, message: string, details: string[] = []) {
    super(message);
    this.name = "SmokeError";
    this.failure = failure;
    this.details = details;
  }
  get exitCode(): number {
    return FAILURES[this.failure].exit;
  }
}

export function isSmokeError(e: unknown): e is SmokeError {
  return e instanceof SmokeError;
}
