// What the docker plugin's contract tests share: a tiny program driven by stack config (a provider, the
// RemoteImages and Containers the config "images" and "containers" describe), its stack under the real
// CLI, and readers for what the tests observe: the engine's plan and state, and the Docker engine
// itself. Nothing here looks inside the plugin, so the same tests run against the real plugin
// (SDWEBUI_TEST_PLUGINS=real).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
import { type Change, EngineStack, type StackOptions, type StateResource, urnName } from "../helpers/engine-stack.js";
import { requireDocker } from "../helpers/docker.js";
import { pluginMode, pluginsMissing, requireToolchain, tinyProgram } from "../helpers/pulumi-cli.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { ensureStandinImage } from "../helpers/standin.js";
import { standinBinary, toolchainLayout } from "../../tools/toolchain/layout.js";
import { DEFAULT_DOCKER_HOST } from "../../infra/config/docker-host.js";

export const CONTAINER = "docker:index/container:Container";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const LOCAL_ENGINE = DEFAULT_DOCKER_HOST;

/**
 * The program: config "provider" is the docker.Provider's args; "images" and "containers" map resource
 * names to args, with `opts` (resource options as JSON: ignoreChanges, replaceOnChanges,
 * deleteBeforeReplace, customTimeouts) and, for a container, `imageFrom` (the name of an image whose
 * imageId is its image, and `networkFrom` (the name of a network whose name is its networkMode). "networks"
 * declares docker.Network resources (args and `opts`); "volumes" docker.Volume resources (a type the
 * stand-in refuses).
 */
export const DOCKER_PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");
const docker = require("@pulumi/docker");
const cfg = new pulumi.Config();
const provider = new docker.Provider("docker", cfg.getObject("provider") ?? {});
const images = {};
for (const [name, spec] of Object.entries(cfg.getObject("images") ?? {})) {
  const { opts, ...args } = spec;
  images[name] = new docker.RemoteImage(name, args, { provider, ...(opts ?? {}) });
}
const networks = {};
for (const [name, spec] of Object.entries(cfg.getObject("networks") ?? {})) {
  const { opts, ...args } = spec;
  networks[name] = new docker.Network(name, args, { provider, ...(opts ?? {}) });
}
const containers = {};
for (const [name, spec] of Object.entries(cfg.getObject("containers") ?? {})) {
  const { opts, imageFrom, networkFrom, ...args } = spec;
  const image = imageFrom ? images[imageFrom].imageId : args.image;
  const network = networkFrom ? { networkMode: networks[networkFrom].name } : {};
  containers[name] = new docker.Container(name, { ...args, ...network, image }, { provider, ...(opts ?? {}) });
}
for (const [name, args] of Object.entries(cfg.getObject("volumes") ?? {})) new docker.Volume(name, args, { provider });
exports.containers = Object.fromEntries(Object.entries(containers).map(([n, c]) => [n, { id: c.id, name: c.name }]));
exports.networks = Object.fromEntries(Object.entries(networks).map(([n, w]) => [n, { id: w.id, name: w.name }]));
exports.images = Object.fromEntries(Object.entries(images).map(([n, i]) => [n, { imageId: i.imageId, repoDigest: i.repoDigest }]));
`;

/** The toolchain, a Docker engine and the docker plugin (stand-in or real); the command plugin is not needed. */
export function requireDockerPlugin(t: TestContext): boolean {
  if (!requireToolchain(t) || !requireDocker(t)) return false;
  if (pluginMode() === "real") return requireOrSkip(t, pluginsMissing());
  const binary = standinBinary(toolchainLayout(), "docker");
  return requireOrSkip(
    t,
    existsSync(binary) ? "" : `the docker stand-in is not built at ${binary} (npm run toolchain)`,
  );
}

/** Skips a test of what only the stand-in does (its refusals), when the real plugins are in use. */
export function standinOnly(t: TestContext): boolean {
  return requireOrSkip(
    t,
    pluginMode() === "real" ? "checks a refusal of the stand-in, which the real plugin does not have" : "",
  );
}

/** The CLI's environment: this process's without DOCKER_HOST (the SDK would take the provider's host from it). */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.DOCKER_HOST;
  if (!("SSH_AUTH_SOCK" in extra)) delete env.SSH_AUTH_SOCK;
  return env;
}

export interface DockerStackOptions extends StackOptions {
  env?: NodeJS.ProcessEnv;
}

/**
 * A stack "test" of the program; skips without the engine. When the test ends the Docker objects whose
 * names start with `prefix` go (on this machine's engine), then the project.
 */
export function dockerStack(t: TestContext, name: string, opts: DockerStackOptions = {}): EngineStack | undefined {
  if (!requireDockerPlugin(t)) return undefined;
  ensureStandinImage();
  const project = tinyProgram(name, DOCKER_PROGRAM, { baseEnv: opts.env ?? cliEnv() });
  t.after(() => project.cleanUp());
  return EngineStack.init(project, "test", opts);
}

/** A container name unique to this test process, removed (by `docker rm -f`) when the test ends. */
export function containerName(t: TestContext, what: string, engine: string[] = []): string {
  const name = `sdw-dk-${process.pid}-${what}`;
  t.after(() => spawnSync("docker", [...engine, "rm", "-f", "-v", name], { stdio: "ignore", timeout: 60_000 }));
  return name;
}

/** `docker inspect` of a container (undefined when there is none). */
export function inspect(name: string, engine: string[] = []): ContainerInspect | undefined {
  const r = spawnSync("docker", [...engine, "container", "inspect", name], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) return undefined;
  return (JSON.parse(r.stdout) as ContainerInspect[])[0];
}

/** The parts of `docker inspect` the tests read. */
export interface ContainerInspect {
  Id: string;
  Image: string;
  State: { Status: string; Running: boolean; ExitCode: number };
  Config: { Cmd: string[] | null; Env: string[]; Healthcheck?: { Interval?: number; StartPeriod?: number } };
  HostConfig: { RestartPolicy: { Name: string }; LogConfig: { Type: string; Config: Record<string, string> } };
}

/** Runs docker and returns stdout, throwing with stderr. */
export function dockerCli(args: string[], engine: string[] = []): string {
  return execFileSync("docker", [...engine, ...args], {
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
    timeout: 120_000,
  });
}

/**
 * An image of the stand-in with a CMD of its own (the stand-in image has only an ENTRYPOINT), built from
 * it without any pull; removed when the test ends. Its CMD is what the engine reads back for `command`.
 */
export function imageWithCmd(t: TestContext, tag: string, cmd: string[], engine: string[] = []): string {
  const ref = `sdw-dk-${process.pid}-${tag}:test`;
  const dockerfile = `FROM sd-webui-standin:dev\nCMD ${JSON.stringify(cmd)}\n`;
  execFileSync("docker", [...engine, "build", "-q", "-t", ref, "-"], {
    input: dockerfile,
    stdio: ["pipe", "pipe", "pipe"],
    timeout: 120_000,
  });
  t.after(() => spawnSync("docker", [...engine, "rmi", "-f", ref], { stdio: "ignore", timeout: 60_000 }));
  return ref;
}

/** A container of the stand-in that serves and answers its healthcheck; `extra` overrides the args. */
export function webContainer(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { image: "sd-webui-standin:dev", name, ...extra };
}

/** An entrypoint whose PID 1 (node, without --init) installs no SIGTERM handler, so the kernel ignores SIGTERM. */
export const IGNORES_SIGTERM = ["/usr/bin/node", "-e", "setInterval(() => {}, 1000)"];

/** The state resource named `name` (the last URN part) of a type. */
export function stateOf(stack: EngineStack, type: string, name: string): StateResource | undefined {
  return stack.resources().find((r) => r.type === type && urnName(r.urn) === name);
}

/** The planned step of one resource (undefined when it is "same"). */
export const changeOf = (changes: Change[], name: string) => changes.find((c) => c.name === name && c.op !== "same");

/** The ops the plan has for one resource, in plan order (replacements show as several steps). */
export const opsOf = (changes: Change[], name: string) => changes.filter((c) => c.name === name).map((c) => c.op);

/** A compact view of a plan for assertion messages. */
export const planText = (changes: Change[]) =>
  JSON.stringify(
    changes.map((c) => ({ name: c.name, op: c.op, diffs: c.diffs, replaces: c.replaces, detailed: c.detailedDiff })),
  );
