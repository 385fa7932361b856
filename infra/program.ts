// The stack: validated settings in, one WebUi component per Docker host (or one KubernetesFleet), the
// stack outputs out. Kept apart from index.ts so tests can evaluate it repeatedly under mocks with different configurations.
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./config/load.js";
import { hostLayouts } from "./docker/host-layout.js";
import { WebUi } from "./docker/webui.js";
import type { StackConfig } from "./config/load.js";

export async function deployStack() {
  // Throws one ConfigError listing every problem before any resource is registered.
  const config = loadStackConfig();
  const stack = pulumi.getStack();
  if (config.settings.target === "kubernetes") return kubernetesOutputs(config, stack);
  const hosts = hostLayouts(config.settings, stack);
  const components = hosts.map(
    (layout) =>
      new WebUi(layout.key ? `sdwebui-${layout.key}` : "sdwebui", {
        ...config,
        layout,
        stack,
        project: pulumi.getProject(),
      }),
  );
  const endpoints = components.flatMap((c) => c.endpoints);
  const first = endpoints[0]!;
  const warnings = [...new Set(components.flatMap((c) => c.warnings))];
  return {
    // The first (for a single-container stack, the only) endpoint, under the conventional names.
    apiUrl: first.apiUrl,
    docsUrl: first.docsUrl,
    outputsDir: first.outputsDir,
    containerName: first.containerName,
    smokeFile: first.smokeFile,
    firewall: first.firewall,
    ...(first.tlsRootCertificate ? { tlsRootCertificate: first.tlsRootCertificate } : {}),
    endpoints: pulumi.output(endpoints.map((e) => ({ ...e }))),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/**
 * The Kubernetes target's outputs: the Service's URL under the same names, the claims instead of host folders.
 * Its modules (the Kubernetes SDK's among them) load only for this target, which spares every Docker-host
 * `pulumi up` their load time.
 */
async function kubernetesOutputs(config: StackConfig, stack: string) {
  const { KubernetesFleet } = await import("./kubernetes/fleet.js");
  const { endpoint, warnings } = new KubernetesFleet("sdwebui", { ...config, stack });
  return {
    apiUrl: endpoint.apiUrl,
    docsUrl: endpoint.docsUrl,
    outputsClaim: endpoint.outputsClaim,
    smokeJob: endpoint.smokeJob,
    endpoints: pulumi.output([endpoint]),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}
