// The WebUI deployment as one Pulumi component: Docker provider for the configured host, the image,
// the host folders, the GPU container, and (wired by their own modules) firewall and smoke proof.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { dockerHostOf } from "./config/docker-host.js";
import { gpuRequest } from "./config/gpus.js";
import type { StackConfig } from "./config/load.js";
import { containerPlan } from "./container-spec.js";
import { launchSpec, webuiFlags } from "./flags.js";
import { foldersScript } from "./folders.js";
import { resolveProfile } from "./profiles.js";
import { remoteConnection, sshOpts } from "./remote.js";

export interface WebUiArgs {
  settings: StackConfig["settings"];
  secrets: StackConfig["secrets"];
  /** Stack and project names, for labels and the default container name. */
  stack: string;
  project: string;
}

export class WebUi extends pulumi.ComponentResource {
  readonly apiUrl: pulumi.Output<string>;
  readonly docsUrl: pulumi.Output<string>;
  readonly outputsDir: pulumi.Output<string>;
  readonly containerName: pulumi.Output<string>;
  readonly container: docker.Container;
  readonly folders: command.local.Command | command.remote.Command;
  readonly image: docker.RemoteImage;

  constructor(name: string, args: WebUiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sdwebui:index:WebUi", name, {}, opts);
    const s = args.settings;
    const profile = resolveProfile(s);
    const gpus = gpuRequest(s.gpus);
    const host = dockerHostOf(s.dockerHost);
    const plan = containerPlan(s, profile, gpus, { project: args.project, stack: args.stack });
    const connection = host.kind === "ssh" ? remoteConnection(host, args.secrets.sshPrivateKey, s.sshKnownHosts) : undefined;

    const provider = new docker.Provider(`${name}-docker`, { host: host.uri, ...(host.kind === "ssh" ? { sshOpts: sshOpts(s.sshKnownHosts) } : {}) }, { parent: this });
    this.image = new docker.RemoteImage(
      `${name}-image`,
      { name: s.image ?? profile.defaultImage, keepLocally: true },
      { parent: this, provider },
    );

    // Host folders: created with the image's owner before the container, never removed on destroy.
    const script = foldersScript({ outputsDir: s.outputsDir, modelsDir: s.modelsDir, uid: profile.uid, gid: profile.gid, profile: profile.name });
    const folderOpts: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: true };
    this.folders = connection
      ? new command.remote.Command(`${name}-folders`, { connection, create: script }, folderOpts)
      : new command.local.Command(`${name}-folders`, { create: script, interpreter: ["/bin/sh", "-c"] }, folderOpts);

    // The flags carry both passwords: derive them inside the secrets so command/envs stay secret.
    const launch = pulumi
      .all([args.secrets.apiPassword, args.secrets.uiPassword ?? args.secrets.apiPassword])
      .apply(([apiPassword, uiPassword]) => {
        const creds = {
          api: { username: s.apiUsername, password: apiPassword },
          ui: { username: s.uiUsername ?? s.apiUsername, password: uiPassword },
        };
        return launchSpec(profile, webuiFlags(s, profile, gpus, creds));
      });

    this.container = new docker.Container(
      `${name}-container`,
      {
        image: this.image.imageId,
        name: plan.name,
        command: launch.apply((l) => l.command ?? []),
        envs: launch.apply((l) => l.envs),
        user: plan.user,
        workingDir: plan.workingDir,
        ports: plan.ports,
        mounts: plan.mounts,
        deviceRequests: plan.deviceRequests,
        healthcheck: plan.healthcheck,
        restart: plan.restart,
        labels: plan.labels,
        logDriver: plan.logDriver,
        logOpts: plan.logOpts,
        shmSize: plan.shmSize,
        wait: false,
        destroyGraceSeconds: 30,
      },
      {
        parent: this,
        provider,
        dependsOn: [this.folders],
        // A fixed name and port: the old container must go before the new one can start.
        deleteBeforeReplace: true,
        // The provider records a new healthcheck without applying it; replace so it takes effect.
        replaceOnChanges: ["healthcheck"],
      },
    );

    const apiHost = s.apiHost ?? (host.kind === "ssh" ? host.host : ["0.0.0.0", "::"].includes(s.bindAddress) ? "127.0.0.1" : s.bindAddress);
    const base = `http://${apiHost.includes(":") ? `[${apiHost}]` : apiHost}:${s.hostPort}`;
    this.apiUrl = pulumi.output(base);
    this.docsUrl = pulumi.output(`${base}/docs`);
    this.outputsDir = pulumi.output(s.outputsDir);
    this.containerName = this.container.name;
    this.registerOutputs({ apiUrl: this.apiUrl, docsUrl: this.docsUrl, outputsDir: this.outputsDir, containerName: this.containerName });
  }
}
