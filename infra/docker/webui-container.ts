// One WebUI container as a Pulumi component, a child of its host's WebUi: the container, the firewall
// rules of its port and its smoke proof. Its children are named from the component's name. They were
// once children of the host component under longer names; `legacy` aliases those, so a stack deployed
// before keeps every resource (no create, replace or delete).
import { createHash } from "node:crypto";
import type { Endpoint, WebUiContainerArgs } from "./webui-container-args.js";
import type * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { firstCheckpoint, resolveCheckpoints } from "../config/checkpoints.js";
import type { StackConfig } from "../config/load.js";
import { containerSpec, type ContainerSpec } from "./container-spec.js";
import { declareFirewall } from "./firewall.js";
import { launchSpec, webuiFlags } from "../common/launch-flags.js";
import { declareSmoke, proofSettings, provenFile } from "../common/smoke-step.js";
import { onResource } from "../common/resource-error.js";
import { pinnedRoots } from "../config/tls.js";
import { declareProxy, declareRootCertificate, type TlsHost, type TlsOn } from "./tls-proxy.js";

export type { ContainerSecrets, ContainerSettings, Endpoint, WebUiContainerArgs } from "./webui-container-args.js";

type Launch = pulumi.Output<{ command?: string[]; envs: string[] }>;

export class WebUiContainer extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly endpoint: Endpoint;
  readonly warnings: string[];
  private readonly args: WebUiContainerArgs;

  constructor(name: string, args: WebUiContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sdwebui:index:WebUiContainer", name, {}, opts);
    this.args = args;
    const { settings, hostLayout, instance } = args;
    const spec = onResource(this, () =>
      containerSpec(
        {
          ...settings,
          hostPort: instance.hostPort,
          outputsDir: instance.outputsDir,
          containerName: instance.containerName,
        },
        args.profile,
        instance.gpus,
        { project: args.project, stack: args.stack },
        hostLayout.sharedModels && args.profile.sharedModelsReadOnly,
      ),
    );
    const launch = this.launch();
    // Firewall next, so the port is never published unprotected.
    const firewall = this.declareFirewall(name, spec, launch);
    this.warnings = firewall.warnings;
    const firewallDeps = firewall.command ? [firewall.command] : [];
    this.container = this.declareContainer(`${name}-container`, spec, launch, [
      ...args.hostReady,
      args.preflight,
      ...firewallDeps,
    ]);
    // With tls, the proxy publishes the port (once the firewall holds) and the WebUI is reachable on the stack's network only.
    const proxy = args.tls ? this.declareProxy(name, args.tls, spec, firewallDeps) : undefined;
    const rootPem =
      proxy && settings.tls === "internal"
        ? declareRootCertificate(`${name}-tls-root`, args.target, settings.tlsDir, proxy.container, this)
        : undefined;
    const apiHost = hostLayout.apiHost.includes(":") ? `[${hostLayout.apiHost}]` : hostLayout.apiHost;
    const base = `${proxy ? "https" : "http"}://${apiHost}:${instance.hostPort}`;
    const smokeDeps = [...firewallDeps, ...(proxy ? [proxy.container, proxy.reload] : [])];
    const tlsProof = proxy ? this.tlsProof(rootPem) : undefined;
    this.endpoint = {
      host: hostLayout.host.kind === "ssh" ? hostLayout.host.host : "localhost",
      apiUrl: pulumi.output(base),
      docsUrl: pulumi.output(`${base}/docs`),
      containerName: this.container.name,
      outputsDir: instance.outputsDir,
      smokeFile: settings.smokeEnabled
        ? provenFile(this.declareSmoke(`${name}-smoke`, base, smokeDeps, tlsProof, proxy?.container))
        : pulumi.output(""),
      firewall: firewall.preview,
      ...(rootPem ? { tlsRootCertificate: rootPem } : {}),
    };
    this.registerOutputs({ endpoint: this.endpoint, warnings: this.warnings });
  }

  /**
   * The port's firewall rules. They key on the host port and survive container replacement; they are re-applied
   * anyway whenever anything the container is built from changes (a digest of its spec, secret because the flags
   * carry the passwords).
   */
  private declareFirewall(name: string, spec: ContainerSpec, launch: Launch) {
    const { settings, hostLayout, instance } = this.args;
    // The digest's key names stay as deployed stacks recorded them: a new key would re-apply every firewall.
    const specDigest = pulumi.all([this.args.image.imageId, launch]).apply(([image, l]) =>
      createHash("sha256")
        .update(JSON.stringify({ image, launch: l, plan: spec }))
        .digest("hex"),
    );
    const legacy = this.args.legacy;
    return declareFirewall(
      `${name}-firewall`,
      {
        input: {
          tag: instance.firewallTag,
          port: instance.hostPort,
          bindAddress: settings.bindAddress,
          allowlist: settings.firewallAllowlist,
          backend: settings.firewallBackend,
        },
        connection: this.args.connection,
        // iptables needs root: a non-root ssh login runs the scripts through sudo -n.
        sudo: hostLayout.host.kind === "ssh" && hostLayout.host.user !== "root",
        reapplyOn: specDigest,
        hostIdentity: this.args.hostIdentity,
        ...(legacy ? { alias: { name: `${legacy.prefix}-firewall`, parent: legacy.parent } } : {}),
      },
      { parent: this, dependsOn: [this.args.preflight] },
    );
  }

  /** The TLS proxy in front of this container: it publishes the port once the firewall holds. */
  private declareProxy(name: string, host: TlsHost, spec: ContainerSpec, firewallDeps: pulumi.Resource[]) {
    const args = this.args;
    return declareProxy(
      `${name}-proxy`,
      {
        settings: args.settings as TlsOn,
        instance: args.instance,
        target: args.target,
        host,
        provider: args.provider,
        hostIdentity: args.hostIdentity,
        spec,
        dependsOn: [...firewallDeps, this.container],
      },
      this,
    );
  }

  /** What the smoke pins and checks with tls on: the stack's root (internal) or the given roots, the plain ports. */
  private tlsProof(rootPem: pulumi.Output<string> | undefined) {
    const { settings, secrets, profile } = this.args;
    const pins = secrets.tlsCertificate
      ? secrets.tlsCertificate.apply((chain) => pinnedRoots(settings, chain))
      : pulumi.output(pinnedRoots(settings, undefined));
    return {
      ca: rootPem ?? pins,
      plainPort: profile.internalPort,
      ...(settings.tls === "acme" ? { httpPort: settings.tlsHttpPort } : {}),
    };
  }

  /** The aliases of a child: its old name under the host component. */
  private aliases(suffix: string): pulumi.Input<pulumi.Alias>[] {
    const legacy = this.args.legacy;
    return legacy ? [{ name: `${legacy.prefix}-${suffix}`, parent: legacy.parent }] : [];
  }

  /** The container's command and envs: they carry both passwords, so they are derived inside the secrets. */
  private launch(): Launch {
    const { settings, profile, ui, instance } = this.args;
    return pulumi.all([this.args.secrets.apiPassword, ui.password]).apply(([apiPassword, uiPassword]) => {
      const creds = {
        api: { username: settings.apiUsername, password: apiPassword },
        ui: { username: ui.username, password: uiPassword },
      };
      // containerSpec mounts the checkpoints folder read-only (or the whole models folder).
      return launchSpec(profile, webuiFlags(settings, profile, instance.gpus, creds, { noModelDownload: true }));
    });
  }

  private declareContainer(
    name: string,
    spec: ContainerSpec,
    launch: Launch,
    dependsOn: pulumi.Resource[],
  ): docker.Container {
    return new docker.Container(
      name,
      {
        image: this.args.image.imageId,
        name: spec.name,
        // An image that takes its flags from a variable keeps its own CMD: the provider reads the command
        // back from the engine, so an empty list would differ from it on every run and replace the container.
        ...(this.args.profile.flagsVia === "env" ? {} : { command: launch.apply((l) => l.command ?? []) }),
        envs: launch.apply((l) => l.envs),
        user: spec.user,
        workingDir: spec.workingDir,
        // With tls the proxy publishes the port; the WebUI joins the stack's network and publishes nothing.
        ...(this.args.tls ? { networkMode: this.args.tls.network.name } : { ports: spec.ports }),
        mounts: spec.mounts,
        deviceRequests: spec.deviceRequests,
        healthcheck: spec.healthcheck,
        restart: spec.restart,
        labels: spec.labels,
        logDriver: spec.logDriver,
        logOpts: spec.logOpts,
        shmSize: spec.shmSize,
        wait: false,
        destroyGraceSeconds: 30,
      },
      {
        parent: this,
        provider: this.args.provider,
        dependsOn,
        aliases: this.aliases("container"),
        // A fixed name and port: the old container must go before the new one can start.
        deleteBeforeReplace: true,
        // The provider records a new healthcheck, and a changed mount source (same number of mounts), without
        // applying either: replace so they take effect. A container whose start failed is recorded with an
        // initialisation error, and the provider's update would leave it created but never started: replace
        // it instead, so the next run starts (or fails) again.
        replaceOnChanges: ["healthcheck", "mounts", "#initerror"],
        // The engine merges the daemon's own default log options into the container's, and the provider reads
        // the merged set back: without this, a host whose daemon.json sets more options replaces every run.
        ignoreChanges: ["logOpts"],
        // Another Docker host: remove the container from the old one and create it on the new one.
        replacementTrigger: this.args.hostIdentity,
      },
    );
  }

  /** The post-deploy proof; it re-runs whenever the container or the image is replaced. */
  private declareSmoke(
    name: string,
    url: string,
    deps: pulumi.Resource[],
    tls: { ca: pulumi.Input<string | undefined>; plainPort: number; httpPort?: number } | undefined,
    proxy: docker.Container | undefined,
  ): command.local.Command {
    const { settings, secrets, hostLayout, instance, profile, ui } = this.args;
    const h = hostLayout.host;
    return declareSmoke(
      name,
      {
        url,
        username: settings.apiUsername,
        password: secrets.apiPassword,
        ...(settings.exposure === "api-and-ui" ? { uiUsername: ui.username, uiPassword: ui.password } : {}),
        exposure: settings.exposure,
        hostOutputsDir: instance.outputsDir,
        hostModelsDir: settings.modelsDir,
        ...proofSettings(settings, profile),
        ...(h.kind === "ssh"
          ? {
              ssh: {
                user: h.user,
                host: h.host,
                port: h.port,
                privateKey: secrets.sshPrivateKey,
                knownHosts: this.args.knownHosts,
              },
            }
          : {}),
        ...checkpointProof(settings.checkpoints),
        ...(tls ? { tls: { ...tls, ca: pulumi.output(tls.ca).apply((c) => c ?? "") } } : {}),
        container: this.container.name,
        triggers: [this.container.id, this.args.image.imageId, ...(proxy ? [proxy.id] : [])],
      },
      { parent: this, dependsOn: [this.container, ...deps], aliases: this.aliases("smoke") },
    );
  }
}

/** What the smoke checks of the declared checkpoints: each listed with its hash, the first one loaded. */
function checkpointProof(entries: StackConfig["settings"]["checkpoints"]) {
  const all = resolveCheckpoints(entries);
  const first = firstCheckpoint(all);
  if (!first) return {};
  return { checkpoints: all.map((c) => ({ name: c.fileName, sha256: c.sha256 })), loadedCheckpoint: first.fileName };
}
