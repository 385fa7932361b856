// Which stacks ci:stack may touch: the tag it writes, which tags each claim accepts, and the refusals'
// messages (each names the stack, says it was left untouched and gives the fix). Pure; the real CLI's
// side is in test/engine/ci-stack-owner.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accepts, markerOf, newOwner, notOurs, parseMarker } from "../../tools/ci-stack/ownership.js";

describe("the ci:stack tag", () => {
  it("carries the run id and a per-process nonce, and reads back", () => {
    const a = newOwner("gh-1-1-e2e");
    assert.match(markerOf(a), /^gh-1-1-e2e\/[0-9a-f]{12}$/);
    assert.deepEqual(parseMarker(markerOf(a)), a);
    assert.notEqual(newOwner("gh-1-1-e2e").nonce, a.nonce, "two processes of one run write different tags");
    for (const bad of [undefined, "", "no-slash", "/x", "x/"]) assert.equal(parseMarker(bad), undefined, String(bad));
  });

  it("a process accepts only its own tag; a named run accepts every tag of that run; no tag is never accepted", () => {
    const a = newOwner("gh-1-1-e2e");
    const b = newOwner("gh-1-1-e2e");
    assert.ok(accepts({ kind: "process", owner: a }, a));
    assert.ok(!accepts({ kind: "process", owner: a }, b), "the same run's other process");
    assert.ok(accepts({ kind: "run", runId: "gh-1-1-e2e" }, b));
    assert.ok(!accepts({ kind: "run", runId: "gh-2-1-e2e" }, a));
    assert.ok(
      !accepts({ kind: "run", runId: "gh-1-1-e2e" }, undefined),
      "an untagged stack (someone's own, or one being created)",
    );
  });
});

describe("refusals", () => {
  const a = newOwner("gh-1-1-e2e");
  it("an untagged stack: left untouched, the fix names another stack name or stack rm by hand", () => {
    const up = notOurs("dev", undefined, { kind: "process", owner: a }, "up");
    assert.match(
      up.message,
      /stack dev exists but has no sdwebui:ci-stack tag: ci:stack did not create it .*left untouched \(config, state, stack file\)/,
    );
    assert.match(up.fix, /set SDWEBUI_CI_STACK to a name no stack has, or unset it .*pulumi stack rm dev/);
    assert.match(
      notOurs("dev", undefined, { kind: "run", runId: "gh-1-1-e2e" }, "destroy").fix,
      /check that --stack or SDWEBUI_CI_STACK names the stack your up created/,
    );
  });

  it("another run's stack: the fix names the cleanup command with that run's id", () => {
    const other = newOwner("gh-9-1-e2e");
    const e = notOurs("shared", other, { kind: "run", runId: "gh-1-1-e2e" }, "destroy");
    assert.match(e.message, /created by ci:stack run gh-9-1-e2e, not by this run \(gh-1-1-e2e\)/);
    assert.equal(e.fix, "once that run is over: npm run ci:stack -- destroy --stack shared --run-id gh-9-1-e2e");
  });

  it("the same run's other process (a matrix leg without a suffix, an earlier up --keep): the suffix is named", () => {
    const e = notOurs("shared", newOwner("gh-1-1-e2e"), { kind: "process", owner: a }, "up");
    assert.match(e.message, /another ci:stack process of this run .*up deploys only to a stack it has just created/);
    assert.match(e.fix, /SDWEBUI_CI_STACK_SUFFIX/);
  });
});
