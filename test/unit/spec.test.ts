// Pure parts of the program, tested directly: profiles, GPU and Docker-host parsing, flags, the
// container spec and the ssh settings.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDockerHost } from "../../infra/config/docker-host.js";
import { gpuRequest, parseGpus } from "../../infra/config/gpus.js";
import { containerSpec, defaultContainerName, deviceRequests } from "../../infra/docker/container-spec.js";
import { launchSpec, webuiFlags } from "../../infra/common/launch-flags.js";
import { PRESETS, resolveProfile } from "../../infra/webui/profiles.js";
import { parseKnownHosts } from "../../infra/config/known-hosts.js";
import { sshOpts } from "../../infra/docker/ssh.js";
import { shellJoin, shellQuote } from "../../lib/shell.js";

const creds = { api: { username: "u", password: "p4ssword-long" }, ui: { username: "v", password: "q4ssword-long" } };

describe("profiles", () => {
  it("presets carry the facts of their images", () => {
    assert.deepEqual(
      [PRESETS.universonic.uid, PRESETS.universonic.internalPort, PRESETS.universonic.flagsVia],
      [1000, 8080, "args"],
    );
    assert.deepEqual([PRESETS.siutin.uid, PRESETS.siutin.commandPrefix], [10000, ["bash", "webui.sh"]]);
    assert.deepEqual(
      [PRESETS["sd-auto"].uid, PRESETS["sd-auto"].flagsEnvVar, PRESETS["sd-auto"].outputsPath],
      [0, "CLI_ARGS", "/output"],
    );
  });
  it("custom needs its facts and defaults the gid to the uid", () => {
    assert.throws(() => resolveProfile({ imageProfile: "custom" }), /profileDataRoot/);
    const p = resolveProfile({
      imageProfile: "custom",
      profileDataRoot: "/w",
      profileOutputsPath: "/w/o",
      profileModelsPath: "/w/m",
      profileUid: 5,
      profilePort: 9,
      profileFlagsVia: "args",
    });
    assert.equal(p.gid, 5);
  });
});

describe("gpus", () => {
  it("parses Docker's --gpus vocabulary", () => {
    assert.deepEqual(parseGpus("all"), { kind: "all" });
    assert.deepEqual(parseGpus("none"), { kind: "none" });
    assert.deepEqual(parseGpus("3"), { kind: "count", count: 3 });
    assert.deepEqual(parseGpus("device=1,GPU-3a23c669-1f69-c64e-cf85-44e9b07e7a2a"), {
      kind: "devices",
      ids: ["1", "GPU-3a23c669-1f69-c64e-cf85-44e9b07e7a2a"],
    });
    for (const bad of ["", "0", "-1", "device=", "device=a b", "0,1", "device=1;rm"])
      assert.equal(typeof parseGpus(bad), "string", bad);
  });
  it("maps to NVIDIA device requests with the driver named", () => {
    assert.deepEqual(deviceRequests(gpuRequest("all")), [{ driver: "nvidia", count: -1, capabilities: ["gpu"] }]);
    assert.equal(deviceRequests(gpuRequest("none")), undefined);
  });
});

describe("docker host", () => {
  it("accepts unix sockets and ssh://user@host[:port], IPv6 in brackets", () => {
    assert.deepEqual(parseDockerHost("unix:///var/run/docker.sock"), {
      kind: "unix",
      uri: "unix:///var/run/docker.sock",
      socket: "/var/run/docker.sock",
    });
    assert.deepEqual(parseDockerHost("ssh://ops@gpu-1.lan:2222"), {
      kind: "ssh",
      uri: "ssh://ops@gpu-1.lan:2222",
      user: "ops",
      host: "gpu-1.lan",
      port: 2222,
    });
    assert.deepEqual(parseDockerHost("ssh://ops@[fd00::5]"), {
      kind: "ssh",
      uri: "ssh://ops@[fd00::5]",
      user: "ops",
      host: "fd00::5",
      port: 22,
    });
  });
  it("refuses tcp://, missing users and shell characters", () => {
    for (const bad of [
      "tcp://h:2375",
      "ssh://host",
      "ssh://a@b;c",
      "ssh://-oProxyCommand=x@h",
      "unix://relative",
      "http://h",
    ])
      assert.equal(typeof parseDockerHost(bad), "string", bad);
  });
});

describe("flags", () => {
  it("api-and-ui: api auth, gradio auth, listen, the profile's port, extras last", () => {
    const f = webuiFlags(
      { exposure: "api-and-ui", extraArgs: ["--medvram"] },
      PRESETS.universonic,
      { kind: "all" },
      creds,
    );
    assert.deepEqual(f, [
      "--api",
      "--api-auth",
      "u:p4ssword-long",
      "--listen",
      "--port",
      "8080",
      "--gradio-auth",
      "v:q4ssword-long",
      "--medvram",
    ]);
  });
  it("api-only adds --nowebui and no gradio auth; none adds the CPU flags", () => {
    const f = webuiFlags({ exposure: "api-only", extraArgs: [] }, PRESETS.siutin, { kind: "none" }, creds);
    assert.deepEqual(f, [
      "--api",
      "--api-auth",
      "u:p4ssword-long",
      "--listen",
      "--port",
      "7860",
      "--nowebui",
      "--use-cpu",
      "all",
      "--skip-torch-cuda-test",
      "--no-half",
    ]);
  });
  it("with a read-only checkpoints folder the WebUI is told not to download a default model there", () => {
    const f = webuiFlags(
      { exposure: "api-only", extraArgs: ["--medvram"] },
      PRESETS.universonic,
      { kind: "all" },
      creds,
      { noModelDownload: true },
    );
    assert.deepEqual(f.slice(-2), ["--no-download-sd-model", "--medvram"]);
  });
  it("launch: args, command prefix, or one env var", () => {
    assert.deepEqual(launchSpec(PRESETS.universonic, ["--api"]), { command: ["--api"], envs: [] });
    assert.deepEqual(launchSpec(PRESETS.siutin, ["--api"]), { command: ["bash", "webui.sh", "--api"], envs: [] });
    assert.deepEqual(launchSpec(PRESETS["sd-auto"], ["--api", "--port", "7860"]), {
      envs: ["CLI_ARGS=--api --port 7860"],
    });
  });
});

describe("container spec", () => {
  const s = {
    hostPort: 7860,
    bindAddress: "0.0.0.0",
    outputsDir: "/o",
    modelsDir: "/m",
    exposure: "api-and-ui" as const,
    shmSizeMb: 1024,
  };
  it("is a pure function of the settings (same input, same plan)", () => {
    const a = containerSpec(s, PRESETS.universonic, { kind: "all" }, { project: "sdwebui", stack: "dev" });
    const b = containerSpec(s, PRESETS.universonic, { kind: "all" }, { project: "sdwebui", stack: "dev" });
    assert.deepEqual(a, b);
    assert.equal(a.workingDir, "/app/stable-diffusion-webui");
    assert.match(a.healthcheck.tests[3]!, /http:\/\/127\.0\.0\.1:8080\/internal\/ping/);
  });
  it("mounts the checkpoints read-only over a writable models folder, and adds nothing when the whole folder is read-only", () => {
    const rw = containerSpec(s, PRESETS.universonic, { kind: "all" }, { project: "sdwebui", stack: "dev" });
    assert.deepEqual(rw.mounts.slice(1), [
      { type: "bind", source: "/m", target: "/app/stable-diffusion-webui/models", readOnly: false },
      {
        type: "bind",
        source: "/m/Stable-diffusion",
        target: "/app/stable-diffusion-webui/models/Stable-diffusion",
        readOnly: true,
      },
    ]);
    const ro = containerSpec(s, PRESETS.universonic, { kind: "all" }, { project: "sdwebui", stack: "dev" }, true);
    assert.deepEqual(ro.mounts.slice(1), [
      { type: "bind", source: "/m", target: "/app/stable-diffusion-webui/models", readOnly: true },
    ]);
  });
  it("default names are valid container names", () => {
    assert.equal(defaultContainerName("dev"), "sdwebui-dev");
    assert.equal(defaultContainerName("CI Run #42"), "sdwebui-ci-run-42");
    assert.match(defaultContainerName("x".repeat(200)), /^[a-z0-9][a-z0-9_.-]{0,62}$/);
  });
});

describe("shell quoting", () => {
  it("quotes what a shell would act on", () => {
    assert.equal(shellQuote("/srv/out"), "/srv/out");
    assert.equal(shellQuote("a b"), "'a b'");
    assert.equal(shellQuote("it's $(x)"), `'it'\\''s $(x)'`);
    assert.equal(shellJoin(["echo", "a;b"]), "echo 'a;b'");
    assert.throws(() => shellQuote("a\0b"));
  });
});

describe("ssh settings", () => {
  const line = "gpu-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
  it("parses known_hosts lines and refuses anything else", () => {
    assert.deepEqual(
      parseKnownHosts(`# pinned\n${line}\n`).map((k) => k.keyType),
      ["ssh-ed25519"],
    );
    assert.throws(() => parseKnownHosts("gpu-1 ssh-ed25519 AAAA; touch /tmp/x"), /not a known_hosts line/);
  });
  it("always verifies host keys; pins them without a file when given", () => {
    assert.deepEqual(sshOpts(undefined).slice(0, 2), ["-o", "StrictHostKeyChecking=yes"]);
    const o = sshOpts(line);
    assert.ok(o.includes("UserKnownHostsFile=/dev/null"));
    assert.ok(o.some((x) => x.startsWith("KnownHostsCommand=/usr/bin/printf") && x.includes(line)));
  });
});
