// Who can reach the WebUI pods of a fleet, by way of its Service, and what stands in between: the
// allowlist means the same on every target (empty: no remote client; 0.0.0.0/0 or ::/0: any address,
// said on purpose). Pure: the validation refuses what nothing enforces, the fleet warns of what only the
// cluster's network plugin enforces.
import { parseCidr } from "../firewall/cidr.js";

export interface ServiceExposureInput {
  serviceType: "ClusterIP" | "NodePort" | "LoadBalancer";
  networkPolicy: boolean;
  firewallAllowlist: readonly string[];
}

export interface ServiceExposure {
  /** The allowlist admits every address of a family (0.0.0.0/0 or ::/0): the user's explicit choice. */
  anyAddress: string[];
  /** Ways in that nothing restricts to the allowlist. */
  unguarded: string[];
  /** Ways in from outside the cluster that only the NetworkPolicy restricts (the network plugin enforces it, or nothing does). */
  policyOnly: string[];
}

const WAYS = {
  clusterIp: "the Service's cluster IP (every pod of the cluster)",
  nodePorts: "its node ports (every address that reaches a node)",
  loadBalancer: "the load balancer's address",
};

export function serviceExposure(settings: ServiceExposureInput): ServiceExposure {
  const anyAddress = settings.firewallAllowlist.filter((c) => {
    try {
      return parseCidr(c).prefix === 0;
    } catch {
      return false; // the setting's own check names it
    }
  });
  const ways = [
    WAYS.clusterIp,
    ...(settings.serviceType === "ClusterIP" ? [] : [WAYS.nodePorts]),
    ...(settings.serviceType === "LoadBalancer" ? [WAYS.loadBalancer] : []),
  ];
  // loadBalancerSourceRanges apply to the load balancer's address only, never to the node ports behind it.
  const byRanges = (way: string) => way === WAYS.loadBalancer && settings.firewallAllowlist.length > 0;
  return {
    anyAddress,
    unguarded: settings.networkPolicy ? [] : ways.filter((w) => !byRanges(w)),
    policyOnly: settings.networkPolicy ? ways.filter((w) => w !== WAYS.clusterIp && !byRanges(w)) : [],
  };
}

/** The preview's warnings for a fleet's Service (stack output `warnings`, and the engine's log). */
export function exposureWarnings(settings: ServiceExposureInput): string[] {
  const e = serviceExposure(settings);
  const out: string[] = [];
  if (e.anyAddress.length > 0)
    out.push(
      `kubernetes: firewallAllowlist holds ${e.anyAddress.join(" and ")}, which admits every address of that family to the WebUI`,
    );
  if (e.policyOnly.length > 0 && e.anyAddress.length === 0)
    out.push(
      `kubernetes: only the NetworkPolicy stands between ${e.policyOnly.join(" and ")} and the WebUI pods: the cluster's network plugin enforces it, and nothing does if the plugin does not enforce NetworkPolicy${settings.serviceType === "LoadBalancer" && settings.firewallAllowlist.length > 0 ? " (loadBalancerSourceRanges cover the load balancer's address only)" : ""}`,
    );
  return out;
}
