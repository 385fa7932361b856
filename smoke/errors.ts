// Failure classes of the smoke step. Each class has its own exit code (2, 3 and 10-39; ci:stack keeps
// to other numbers) so that scripts and `pulumi up` logs tell the cause apart without parsing messages.

export const FAILURES = {
  usage: {
    exit: 2,
    title: "bad smoke settings",
    meaning: "bad flag or missing password variable (the flag and fix are named)",
  },
  internal: { exit: 3, title: "unexpected error in the smoke step", meaning: "unexpected error in the smoke itself" },
  unreachable: {
    exit: 10,
    title: "API address unreachable",
    meaning: "nothing answers at the URL (container stopped, not created, DNS, connection broken)",
  },
  firewall: {
    exit: 11,
    title: "connection times out (firewall)",
    meaning:
      "connecting times out while the Docker host is up: a firewall drops the packets; allow this machine's address",
  },
  "listen-localhost": {
    exit: 12,
    title: "WebUI listens on 127.0.0.1 only",
    meaning:
      "container running but the WebUI listens on 127.0.0.1 only: start it with `--listen` (needs `--container`)",
  },
  "api-disabled": { exit: 13, title: "API not enabled", meaning: "404 on `/sdapi`: start the WebUI with `--api`" },
  unauthorized: {
    exit: 14,
    title: "credentials refused",
    meaning: "401: user name / password variable do not match `--api-auth`",
  },
  "no-checkpoint": {
    exit: 15,
    title: "no checkpoint installed",
    meaning: "`/sdapi/v1/sd-models` is empty: put a `.safetensors` file in `<models dir>/Stable-diffusion`",
  },
  "model-timeout": {
    exit: 16,
    title: "timed out waiting for the model",
    meaning: "the model did not load / the generation did not finish within `--timeout`",
  },
  "generation-failed": { exit: 17, title: "generation failed", meaning: "txt2img/img2img answered 5xx (body shown)" },
  "bad-response": {
    exit: 18,
    title: "unexpected API response",
    meaning: "a response failed its schema (the field is named), or image bytes came back although `send_images:false`",
  },
  "unsupported-settings": {
    exit: 19,
    title: "WebUI save settings the smoke cannot follow",
    meaning: "save options the smoke cannot follow (e.g. `samples_format` jpg, `samples_save` off)",
  },
  "saved-nowhere": {
    exit: 20,
    title: "image saved nowhere on the host",
    meaning: "API says saved, no `*-<seed>.png` in the host folders searched (listed, with what was there)",
  },
  "saved-in-container": {
    exit: 21,
    title: "image saved only inside the container",
    meaning: "the image is in the container's own layer: the outputs volume is not mapped",
  },
  "data-root-mismatch": {
    exit: 22,
    title: "image data root does not match the profile",
    meaning:
      "the WebUI saves outside the mounted folder: the image's data root does not match the profile (paths named)",
  },
  "bad-png": {
    exit: 23,
    title: "corrupt or mismatched PNG",
    meaning: "corrupt PNG, or size / run id / seed do not match",
  },
  "permission-denied": {
    exit: 24,
    title: "permission denied on the host folder",
    meaning:
      "the WebUI could not write the host folder (owner and mode shown; `chown` to the uid the profile expects), or the smoke cannot read it",
  },
  "wrong-checkpoint": {
    exit: 26,
    title: "the WebUI does not serve the declared checkpoint",
    meaning:
      "a declared checkpoint is not listed, its hash differs, another one is loaded, or the proof image names another model (names and hashes shown)",
  },
  "gpus-short": {
    exit: 27,
    title: "fewer free GPUs than the replicas need",
    meaning:
      "Kubernetes: a WebUI pod cannot be scheduled for want of the GPU resource (the scheduler's message shown): lower `replicas` or add GPU nodes",
  },
  unschedulable: {
    exit: 28,
    title: "a WebUI pod cannot be scheduled",
    meaning:
      "Kubernetes: the scheduler cannot place a pod for another reason (node selector, taints, runtime class, claims; its message shown)",
  },
  "rollout-timeout": {
    exit: 29,
    title: "the rollout did not finish in time",
    meaning: "Kubernetes: not every replica became available within `--rollout-timeout` (counts shown)",
  },
  "host-access": {
    exit: 25,
    title: "cannot access the Docker host",
    meaning: "SSH to the Docker host failed (user, key, port, known_hosts)",
  },
  "surface-open": {
    exit: 30,
    title: "a surface is open without credentials",
    meaning: "a surface answers without credentials (`/sdapi`, `/file=`, `/`, `/config`): the missing flag is named",
  },
  "tls-untrusted": {
    exit: 32,
    title: "the HTTPS certificate is refused",
    meaning:
      "the proxy's certificate does not chain to the pinned root(s) (or the system's), names another host, or has expired; or the proxy never got one (its log named)",
  },
  "plain-bypass": {
    exit: 33,
    title: "the WebUI is reachable around the TLS proxy",
    meaning:
      "plain HTTP reaches the API: on the published port, on the WebUI's own port, or on the ACME port beyond its redirect",
  },
  "file-serve": {
    exit: 31,
    title: "/file= does not serve the proven file",
    meaning: "the UI login failed, or `/file=` does not serve the proven file byte-identically",
  },
} as const;

export type FailureClass = keyof typeof FAILURES;

/** Each failure class's exit code, by class name (read from FAILURES). */
export const SMOKE_EXIT = Object.fromEntries(Object.entries(FAILURES).map(([k, v]) => [k, v.exit])) as {
  readonly [K in FailureClass]: (typeof FAILURES)[K]["exit"];
};

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

/** smoke/README.md's exit-code table (npm run docs:tables writes it; a unit test checks it). */
export function exitCodeTable(): string {
  const rows = Object.entries(FAILURES).map(([name, f]) => `| ${f.exit} | \`${name}\` | ${f.meaning} |`);
  return [
    "| exit | class | meaning and fix named in the message |",
    "|---|---|---|",
    "| 0 | — | proof holds |",
    ...rows,
  ].join("\n");
}
