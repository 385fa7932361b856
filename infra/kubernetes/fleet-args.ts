// The fleet component's arguments, and what its parts share while they declare their objects.
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/load.js";
import type { PublicSettings } from "../config/schema.js";
import type { Profile, ProfileSettings } from "../webui/profiles.js";
import type { FleetNames, FleetSettings } from "./manifests.js";

/**
 * The stack settings the fleet uses, by their schema names (each documented in the schema and in
 * `Pulumi.yaml`'s config block): the pods' and claims' (FleetSettings), the image and its profile, the
 * cluster context, the smoke switch, the NetworkPolicy switch and the pinned tls roots.
 */
export type KubernetesFleetSettings = FleetSettings &
  ProfileSettings &
  Pick<PublicSettings, "image" | "kubeContext" | "smokeEnabled" | "networkPolicy" | "tlsCaRoots">;

export interface KubernetesFleetArgs {
  /** The validated stack settings the fleet uses. */
  settings: KubernetesFleetSettings;
  /** The stack's secrets as Pulumi secret Outputs: API and UI passwords, kubeconfig, tls files. */
  secrets: Pick<StackConfig["secrets"], "apiPassword" | "uiPassword" | "kubeconfig" | "tlsCertificate" | "tlsKey">;
  /** The stack's name: labels, and the default names of the objects. */
  stack: string;
}

/** The options of a child object: parented to the fleet, through its provider, after `deps`. */
export type ChildOptions = (deps?: pulumi.Resource[]) => pulumi.CustomResourceOptions;

/** What every part of the fleet declares its objects with. */
export interface FleetContext {
  /** The component's name: every child's name starts with it. */
  name: string;
  args: KubernetesFleetArgs;
  profile: Profile;
  names: FleetNames;
  child: ChildOptions;
}
