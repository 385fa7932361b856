// What an end-to-end test leaves behind, removed even when a step failed: the harness's live resources
// (destroyed in dependency order), then anything still named after the stack, then its temporary folders.
import * as fs from "node:fs";
import type { TestContext } from "node:test";
import { purgeTaggedRules, removeStackContainers } from "./host.js";
import type { Harness } from "./realise.js";
import type { E2eStack } from "./stack.js";

/** Returns what had to be removed by name: the containers and the firewall rules a failed step left. */
export async function cleanUpStack(t: TestContext, h: Harness, s: Pick<E2eStack, "stack" | "root">, tags: string[]): Promise<{ containers: string[]; rules: number }> {
  try {
    if (h.live.size) await h.destroy();
  } catch (e) {
    t.diagnostic(`clean-up destroy failed: ${(e as Error).message}`);
  }
  const containers = removeStackContainers(s.stack);
  let rules = 0;
  for (const tag of tags) rules += purgeTaggedRules(tag);
  fs.rmSync(s.root, { recursive: true, force: true });
  return { containers, rules };
}
