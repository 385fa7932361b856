// Which stacks ci:stack may touch: only the ones it created. Right after `pulumi stack init` it tags the
// new stack `sdwebui:ci-stack=<run id>/<nonce>`: the run id names the CI run (a cleanup step of the same
// job computes it again), the nonce the process (the teardown after `up` accepts only its own). A stack
// without the tag belongs to someone else, or to a ci:stack that has not tagged it yet, and is never
// touched. Stack tags live in the backend beside the state (the file backend keeps <stack>.pulumi-tags),
// survive up and destroy, and go with `stack rm`. Stack files (Pulumi.<stack>.yaml) are guarded apart:
// `up` refuses a name whose file exists, and no step removes a file that git tracks.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const OWNER_TAG = "sdwebui:ci-stack";

export interface Owner {
  runId: string;
  nonce: string;
}

export function newOwner(runId: string): Owner {
  return { runId, nonce: randomBytes(6).toString("hex") };
}

export const markerOf = (o: Owner): string => `${o.runId}/${o.nonce}`;

export function parseMarker(value: string | undefined): Owner | undefined {
  const at = value?.lastIndexOf("/") ?? -1;
  if (value === undefined || at <= 0 || at === value.length - 1) return undefined;
  return { runId: value.slice(0, at), nonce: value.slice(at + 1) };
}

/** Whose stacks a process may deploy to or tear down: its own (the exact tag it wrote), or any of a named run. */
export type Claim = { kind: "process"; owner: Owner } | { kind: "run"; runId: string };

const claimRunId = (c: Claim): string => (c.kind === "process" ? c.owner.runId : c.runId);

export function accepts(claim: Claim, tag: Owner | undefined): boolean {
  if (!tag) return false;
  return claim.kind === "process" ? markerOf(tag) === markerOf(claim.owner) : tag.runId === claim.runId;
}

/** A refusal made before the stack was touched; its message names the stack and the fix. */
export class OwnershipError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(`${message}\n  fix: ${fix}`);
    this.name = "OwnershipError";
  }
}

const PICK_ANOTHER = "set SDWEBUI_CI_STACK to a name no stack has, or unset it for the unique per-run name";

/** Why the stack is not this process's to deploy (`up`) or to tear down (`destroy`). */
export function notOurs(stack: string, tag: Owner | undefined, claim: Claim, action: "up" | "destroy"): OwnershipError {
  const untouched = "it was left untouched (config, state, stack file)";
  const removeLater = (runId: string) => `npm run ci:stack -- destroy --stack ${stack} --run-id ${runId}`;
  if (!tag)
    return new OwnershipError(
      `stack ${stack} exists but has no ${OWNER_TAG} tag: ci:stack did not create it (or another ci:stack is creating it this very moment); ${untouched}`,
      action === "up"
        ? `${PICK_ANOTHER}; or, if the stack is yours and unused, remove it yourself: pulumi stack rm ${stack}`
        : `check that --stack or SDWEBUI_CI_STACK names the stack your up created; a stack of your own is yours to remove (pulumi destroy, pulumi stack rm ${stack})`,
    );
  const mine = claimRunId(claim);
  if (tag.runId !== mine)
    return new OwnershipError(
      `stack ${stack} was created by ci:stack run ${tag.runId}, not by this run (${mine}); ${untouched}`,
      action === "up"
        ? `${PICK_ANOTHER}; once that run is over, remove its stack with ${removeLater(tag.runId)}`
        : `once that run is over: ${removeLater(tag.runId)}`,
    );
  return new OwnershipError(
    `stack ${stack} was created by another ci:stack process of this run (${tag.runId}, tag ${markerOf(tag)}): ${action === "up" ? "up deploys only to a stack it has just created" : "this process did not create it"}; ${untouched}`,
    `remove it first with npm run ci:stack -- destroy --stack ${stack} --run-id ${tag.runId}; legs of one matrix job need SDWEBUI_CI_STACK_SUFFIX (e.g. the matrix value) to get stacks and run ids of their own`,
  );
}

/** The stack files Pulumi may read for a stack (and `stack rm` deletes). */
export function stackFiles(workDir: string, stack: string): string[] {
  return ["yaml", "yml", "json"].map((ext) => join(workDir, `Pulumi.${stack}.${ext}`));
}

/** Whether git tracks the file (false where git or a repository is missing: then nothing is committed). */
export function trackedByGit(file: string, workDir: string): boolean {
  const r = spawnSync("git", ["-C", workDir, "ls-files", "--error-unmatch", "--", file], {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "ignore"],
  });
  return r.status === 0;
}

/** A stack file that rules the name out, checked before anything is touched: committed, or (for up) already there. */
export function stackFileRefusal(
  workDir: string,
  stack: string,
  command: "up" | "destroy",
): OwnershipError | undefined {
  for (const file of stackFiles(workDir, stack)) {
    if (trackedByGit(file, workDir))
      return new OwnershipError(
        `${file} is tracked by git: ci:stack never uses a stack whose stack file is committed (stack rm would delete it); nothing was touched`,
        command === "up" ? PICK_ANOTHER : `check that --stack or SDWEBUI_CI_STACK names the stack your up created`,
      );
    if (command === "up" && existsSync(file))
      return new OwnershipError(
        `${file} already exists: ci:stack creates only new stacks with new stack files, and leaves this one alone; nothing was touched`,
        `${PICK_ANOTHER}; or, if the file is a leftover of yours, remove it`,
      );
  }
  return undefined;
}
