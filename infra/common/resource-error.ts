// A component's children are built from validated settings, so a step that still throws is a program fault
// or a setting the validator let through; either way Pulumi should show it on the component that failed,
// with its URN, rather than as a bare stack trace of the program.
import * as pulumi from "@pulumi/pulumi";

/** `step()`'s value; an error it throws is raised again as a ResourceError of `resource`. */
export function onResource<T>(resource: pulumi.Resource, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (pulumi.ResourceError.isInstance(e) || pulumi.RunError.isInstance(e)) throw e;
    throw new pulumi.ResourceError(e instanceof Error ? e.message : String(e), resource);
  }
}
