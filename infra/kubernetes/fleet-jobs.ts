// The fleet's Jobs' identities, and the smoke Job that proves a rollout saved an image on the outputs claim.
import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChildOptions, FleetContext } from "./fleet-args.js";
import { fleetLabels } from "./manifests.js";
import { smokeJobSpec, smokeRoleRules } from "./smoke-job-spec.js";
import type { FleetTlsObjects } from "./manifests.js";

type Rules = pulumi.Input<pulumi.Input<k8s.types.input.rbac.v1.PolicyRule>[]>;

/** A Job's identity in the cluster. */
export interface JobAccount {
  account: k8s.core.v1.ServiceAccount;
  role: k8s.rbac.v1.Role;
  /** Made after the other two: a Job that waits for it waits for all three. */
  binding: k8s.rbac.v1.RoleBinding;
}

/**
 * A Job's identity: a ServiceAccount without a mounted token by default, a Role with `rules` and their
 * binding, all named `metadata.name` in the cluster and `<prefix>-account|role|binding` in the stack.
 */
export function declareJobAccount(
  prefix: string,
  metadata: { name: string; namespace: string; labels: Record<string, string> },
  rules: Rules,
  child: ChildOptions,
): JobAccount {
  const account = new k8s.core.v1.ServiceAccount(
    `${prefix}-account`,
    { metadata, automountServiceAccountToken: false },
    child(),
  );
  const role = new k8s.rbac.v1.Role(`${prefix}-role`, { metadata, rules }, child());
  const binding = new k8s.rbac.v1.RoleBinding(
    `${prefix}-binding`,
    {
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: metadata.name },
      subjects: [{ kind: "ServiceAccount", name: metadata.name, namespace: metadata.namespace }],
    },
    child([account, role]),
  );
  return { account, role, binding };
}

/** The smoke Job of this rollout; its name, for the stack outputs. */
export function declareSmokeJob(
  ctx: FleetContext,
  serviceUrl: pulumi.Output<string>,
  rollout: { deployment: k8s.apps.v1.Deployment; spec: pulumi.Output<unknown> },
  secret: k8s.core.v1.Secret,
  tls: pulumi.Output<FleetTlsObjects> | undefined,
): pulumi.Output<string> {
  const { name, args, profile, names, child } = ctx;
  const settings = args.settings;
  // A Job runs once: a new rollout or scale (the Deployment's spec, which names the Secret) gives a new Job name,
  // so the proof runs again.
  const revision = pulumi
    .all([rollout.spec, serviceUrl])
    .apply(([t, url]) =>
      createHash("sha256").update(JSON.stringify(t)).update(url).update(settings.smokeImage).digest("hex").slice(0, 10),
    );
  const spec = pulumi
    .all([serviceUrl, secret.metadata.name, tls])
    .apply(([url, secretName, objects]) => smokeJobSpec(settings, profile, args.stack, url, secretName, objects));
  // The smoke Job reads its Deployment and lists its pods, nothing else.
  const metadata = {
    name: names.smokeAccount,
    namespace: settings.namespace,
    labels: fleetLabels(args.stack, "smoke"),
  };
  const account = declareJobAccount(`${name}-smoke`, metadata, smokeRoleRules(names), child);
  const job = new k8s.batch.v1.Job(
    `${name}-smoke`,
    {
      metadata: {
        name: pulumi.interpolate`${names.base}-smoke-${revision}`,
        namespace: settings.namespace,
        labels: fleetLabels(args.stack, "smoke"),
        annotations: {
          "pulumi.com/timeoutSeconds": String(settings.rolloutTimeoutSeconds + settings.smokeTimeoutSeconds + 120),
        },
      },
      spec,
    },
    child([rollout.deployment, account.account, account.role, account.binding]),
  );
  return job.metadata.name;
}
