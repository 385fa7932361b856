// Every fix the config validator prints, run as printed with the real Pulumi CLI: each bad configuration of
// the bad-config table (and a few more, for the shapes it lacks) is stored in a stack of the real project,
// the fix line is taken from the error text, its placeholders get valid values, and each `pulumi config`
// command of one alternative runs in a shell. Then the program reads the stack (readRawSettings and
// validateSettings, as in `pulumi up`): the problem must be gone, and every item set with --path must arrive
// as the string that was typed (a bare --path stores "60" and "true" as a number and a boolean, which the
// CLI's declared types or the schema then refuse). One stack per distinct command shape.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SECRET_KEYS } from "../../infra/config/schema.js";
import { ConfigError, validateSettings } from "../../infra/config/validate.js";
import { shellQuote } from "../../lib/shell.js";
import { readbackProject, type ReadbackProject } from "../helpers/config-readback.js";
import { requireToolchain } from "../helpers/pulumi-cli.js";
import { freePort } from "../helpers/standin.js";
import { BAD } from "../unit/bad-config-cases.js";

const PASSWORD = "Tr0ub4dor-3-horse-fix";
const isSecret = (k: string) => (SECRET_KEYS as readonly string[]).includes(k);

/** A valid value for `<value>` in a command that sets `key` (at `path`, the --path after the key). */
function valueFor(key: string, path: string): string {
  const items: Record<string, string> = {
    // Each of these would change type under a bare --path: a number, or a boolean.
    // A flag that takes no value: a bare token would now be refused as no flag's value.
    extraArgs: "--medvram",
    "checkpoints.sha256": "1".repeat(64),
    "checkpoints.useToken": "false",
    "checkpoints.loadFirst": "true",
    "tolerations.value": "true",
    "tolerations.operator": "Equal",
    nodeSelector: "true",
    hosts: "unix:///var/run/docker.sock#cpu:1",
    firewallAllowlist: "10.0.0.0/8",
    "checkpoints.source": "https://hf.example/m.safetensors",
    "checkpoints.fileName": "m.safetensors",
  };
  const field = /\.(\w+)$/.exec(path)?.[1];
  const item = items[field ? `${key}.${field}` : key];
  if (path !== "" && item !== undefined) return item;
  const scalars: Record<string, string> = {
    apiPassword: PASSWORD,
    uiPassword: "ui-Tr0ub4dor-3-horse",
    checkpointToken: "hf_token_1234567890",
    hostPort: "7861",
    bindAddress: "127.0.0.1",
    gpus: "1",
    imageProfile: "universonic",
    image: "example/webui:1",
    outputsDir: "/srv/sd-webui/out-2",
    modelsDir: "/srv/sd-webui/models-2",
    dockerHost: "unix:///var/run/docker.sock",
    firewallBackend: "nftables",
    smokeTimeoutSeconds: "60",
    smokeEnabled: "false",
    profileDataRoot: "/app",
    profileOutputsPath: "/app/outputs",
    profileModelsPath: "/app/models",
    profileUid: "1000",
    profilePort: "7860",
    profileFlagsVia: "args",
    exposure: "api-only",
    containerName: "sdwebui-fix",
    apiUsername: "ops",
    uiUsername: "ui",
    apiHost: "gpu-1",
    kubeconfig: "apiVersion: v1\ncontexts:\n- name: dev\n",
    namespace: "gpu-team",
    replicas: "2",
    gpuResource: "nvidia.com/gpu",
    gpusPerPod: "1",
    outputsStorageSize: "20Gi",
    modelsStorageSize: "100Gi",
    serviceType: "ClusterIP",
    target: "kubernetes",
    storageAccessMode: "ReadWriteMany",
    imagePullTimeoutSeconds: "600",
    kubeContext: "dev",
    sshKnownHosts: "gpu-box ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBbfY214OdnuBjs16WZbBxNRgyHOX+yGiHXGG7xlrTp",
  };
  const v = scalars[key];
  if (v === undefined) throw new Error(`no valid value for ${key}${path} in this test: add one`);
  return v;
}

/** The fields a fresh item needs, for "(one command per field and item)". */
const ITEM_FIELDS: Record<string, string[]> = { checkpoints: ["source", "sha256"], tolerations: ["operator"] };

/** Split at a separator outside quotes and $( ). */
function splitTop(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) quote = c === quote ? "" : quote;
    else if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && text.startsWith(sep, i)) {
      out.push(text.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  return [...out, text.slice(start)];
}

interface Alternative {
  /** The problem it fixes. */
  key: string;
  raw: Record<string, unknown>;
  printed: string;
  commands: string[];
  /** "(one command per …)": repeat a --path command for each field an item needs. */
  perField: boolean;
}

/** An alternative without its notes: "(one command per item)", "(it is encrypted then)", "for each entry <i> that needs it". */
function commandsOf(alt: string): { commands: string[]; perField: boolean } {
  let text = alt.trim();
  const perField = /\(one command per field and item\)$/.test(text);
  text = text.replace(/ for each entry <i> that needs it$/, "");
  for (let cut = /\s\([^()]*\)$/.exec(text); cut && !/\$\(/.test(cut[0]); cut = /\s\([^()]*\)$/.exec(text))
    text = text.slice(0, cut.index);
  return { commands: splitTop(text, ", then ").map((c) => c.trim()), perField };
}

/** A command with its key, indexes, labels, fields and values generalised: one test per distinct shape. */
function shapeOf(command: string): string {
  const m = /^pulumi config (set|rm)((?: --(?:path|secret|type string))*) ('[^']*'|\S+)(?: (.*))?$/.exec(command);
  if (!m) return `unparsed: ${command}`;
  const key = m[3]!
    .replace(/sdwebui:\w+/, "K")
    .replace(/\[\d+\]/g, "[N]")
    .replace(/\[<i>\]/g, "[I]")
    .replace(/\["[^"]*"\]/g, '["L"]')
    .replace(/\.[\w<>]+/g, ".F");
  const value =
    m[4] === undefined ? "" : m[4].startsWith('"$(') ? ` ${m[4].replace(/-p \S+ [^\s)]+/, "-p P H")}` : " V";
  return `${m[1]}${m[2]} ${key}${value}`;
}

/** Every alternative of every fix the validator prints for `cases`, as printed (the namespace filled in). */
function alternatives(cases: Record<string, unknown>[]): { alts: Alternative[]; fileEdits: number; prose: string[] } {
  const alts: Alternative[] = [];
  const prose: string[] = [];
  let fileEdits = 0;
  for (const bad of cases) {
    const raw = { apiPassword: PASSWORD, ...bad };
    let e: ConfigError | undefined;
    try {
      validateSettings(raw, isSecret);
    } catch (x) {
      e = x as ConfigError;
    }
    assert.ok(e instanceof ConfigError, `refused: ${JSON.stringify(bad)}`);
    const printed = e.message
      .split("\n")
      .filter((l) => l.startsWith("      fix: "))
      .map((l) => l.slice("      fix: ".length));
    assert.equal(printed.length, e.problems.length, "one fix line per problem");
    e.problems.forEach((p, i) => {
      for (const alt of splitTop(printed[i]!, ", or ")) {
        if (/^edit the \w+ (list|map) in Pulumi\.<stack>\.yaml$/.test(alt)) fileEdits++;
        else if (!alt.startsWith("pulumi config ")) prose.push(`${p.key}: ${alt}`);
        else alts.push({ key: p.key, raw, printed: printed[i]!, ...commandsOf(alt) });
      }
    });
  }
  return { alts, fileEdits, prose };
}

/** A kubeconfig as a fix asks for it: its current context names a cluster with a server and a user it holds. */
const GOOD_KUBECONFIG =
  "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: https://127.0.0.1:6443}\nusers:\n- name: u\n  user: {token: t}\n";

/** The command lines to run for one printed command: placeholders filled, repeated per field where asked. */
function filled(command: string, perField: boolean, ssh: { port: number; kubeconfigFile: string }): string[] {
  const key = /sdwebui:(\w+)/.exec(command)![1]!;
  const path = /sdwebui:\w+([^'\s]*)/.exec(command)![1]!;
  const fields = perField && path.includes("<field>") ? (ITEM_FIELDS[key] ?? []) : [undefined];
  return fields.map((field) => {
    const at = path
      .replace("<field>", field ?? "operator")
      .replace("<i>", "0")
      .replace('"<label>"', '"nvidia.com/gpu.present"');
    return command
      .replace(path, at)
      .replace("<value>", () => shellQuote(valueFor(key, at)))
      .replace("<one of those>", "dev")
      .replace("<another context>", "dev")
      .replace("<kubeconfig file>", ssh.kubeconfigFile)
      .replace("<port>", String(ssh.port))
      .replace("<host>", "127.0.0.1");
  });
}

/** The stack config as `pulumi config set-all --json` takes it; secrets stored as secrets. */
function configJson(raw: Record<string, unknown>): string {
  const doc = Object.fromEntries(
    Object.entries(raw)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [
        `sdwebui:${k}`,
        typeof v === "object" && v !== null
          ? { value: JSON.stringify(v), objectValue: v, secret: false }
          : { value: String(v), secret: isSecret(k) },
      ]),
  );
  return JSON.stringify(doc);
}

/** The value the program received at a --path such as [0].sha256 or ["nvidia.com/gpu.present"]. */
function atPath(value: unknown, path: string): unknown {
  let v = typeof value === "string" ? (JSON.parse(value) as unknown) : value;
  for (const m of path.matchAll(/\[(\d+)\]|\["([^"]*)"\]|\.(\w+)/g))
    v = (v as Record<string, unknown>)?.[m[1] ?? m[2] ?? m[3]!];
  return v;
}

describe("every fix text, run as printed with the real Pulumi CLI", { timeout: 900_000 }, () => {
  let project: ReadbackProject | undefined;
  let sshd: ChildProcess | undefined;
  let sshDir = "";
  const ssh = { port: 0, kubeconfigFile: "" };
  before(async () => {
    // A bare sshd on loopback, so that the known-hosts fixes can run their ssh-keyscan as printed.
    ssh.port = await freePort();
    sshDir = mkdtempSync(join(tmpdir(), "sdwebui-fix-sshd-"));
    ssh.kubeconfigFile = join(sshDir, "kubeconfig");
    writeFileSync(ssh.kubeconfigFile, GOOD_KUBECONFIG);
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(sshDir, "hostkey")]);
    spawnSync("mkdir", ["-p", "/run/sshd"]);
    sshd = spawn(
      "/usr/sbin/sshd",
      [
        "-D",
        "-e",
        "-f",
        "/dev/null",
        "-o",
        "ListenAddress=127.0.0.1",
        "-o",
        "PidFile=none",
        "-p",
        String(ssh.port),
        "-h",
        join(sshDir, "hostkey"),
      ],
      { stdio: "ignore" },
    );
    for (
      let i = 0;
      i < 50 &&
      spawnSync("ssh-keyscan", ["-T", "1", "-p", String(ssh.port), "127.0.0.1"], { encoding: "utf8" }).stdout === "";
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
  });
  after(() => {
    sshd?.kill();
    rmSync(sshDir, { recursive: true, force: true });
    project?.cleanUp();
  });

  it("each distinct command shape fixes its problem, and every --path item arrives as the string typed", (t) => {
    if (!requireToolchain(t)) return;
    project = readbackProject("fix-commands");
    // Members of shapes the table has, on this machine's loopback sshd, and a custom profile without its prefix.
    const extra: Record<string, unknown>[] = [
      { dockerHost: `ssh://ops@127.0.0.1:${ssh.port}` },
      {
        dockerHost: `ssh://ops@127.0.0.1:${ssh.port}`,
        sshKnownHosts: `[127.0.0.1]:${ssh.port} ssh-rsa AAAAB3NzaC1yc2E`,
      },
      {
        imageProfile: "custom",
        image: "x/y:1",
        profileDataRoot: "/app",
        profileOutputsPath: "/app/outputs",
        profileModelsPath: "/app/models",
        profileUid: "1000",
        profilePort: "7860",
        profileFlagsVia: "command",
      },
      { target: "kubernetes", nodeSelector: { "nvidia.com/gpu.present": true } },
      { target: "kubernetes", tolerations: [{ key: "gpu", operator: "Equal", value: 1 }] },
      { extraArgs: ["--timeout-keep-alive", 60] },
      {
        checkpoints: [{ source: "https://hf.example/m.safetensors", sha256: "a".repeat(64) }],
        checkpointToken: "hf_token_1234567890",
      },
    ];
    const { alts, fileEdits, prose } = alternatives([...extra, ...BAD.map(([raw]) => raw)]);
    assert.deepEqual(prose, [], "every alternative that is not a stack-file edit is a pulumi config command");
    const byShape = new Map<string, Alternative>();
    for (const a of alts)
      byShape.set(a.commands.map(shapeOf).join(" ; "), byShape.get(a.commands.map(shapeOf).join(" ; ")) ?? a);
    t.diagnostic(`shapes: ${[...byShape.keys()].join(" | ")}`);
    t.diagnostic(
      `${alts.length} command alternatives (and ${fileEdits} stack-file edits) in ${new Set(alts.map((a) => a.printed)).size} distinct fix texts; ${byShape.size} distinct shapes`,
    );
    const failures: string[] = [];
    let n = 0;
    for (const [shape, alt] of byShape) {
      const stack = `fix-${n++}`;
      project.must(["stack", "init", stack]);
      project.must(["config", "set-all", "--json", configJson(alt.raw)]);
      const lines = alt.commands.flatMap((c) => filled(c, alt.perField, ssh));
      for (const line of lines) {
        const r = spawnSync("bash", ["-c", line], { cwd: project.dir, env: project.env, encoding: "utf8" });
        if (r.status !== 0) failures.push(`${shape}: \`${line}\` failed: ${r.stderr.trim()}`);
      }
      const preview = project.pulumi(["preview"]);
      const read = project.readback(stack);
      if (!read)
        failures.push(
          `${shape}: the program did not run after \`${lines.join("; ")}\`: ${(preview.stdout + preview.stderr)
            .split("\n")
            .filter((l) => /error/.test(l))
            .join(" ")}`,
        );
      else {
        const setKeys = lines.flatMap((l) => (/^pulumi config set/.test(l) ? [/sdwebui:(\w+)/.exec(l)![1]!] : []));
        const left = (read.problems ?? []).filter((p) => p.key === alt.key || setKeys.includes(p.key));
        if (left.length > 0)
          failures.push(
            `${shape}: after \`${lines.join("; ")}\` the program still refuses: ${left.map((p) => `${p.key}: ${p.message}`).join("; ")}`,
          );
        for (const line of lines.filter((l) => l.includes("--path") && l.startsWith("pulumi config set"))) {
          const [, key, path, word] = /sdwebui:(\w+)([^'\s]*)' (?:-- )?(.*)$/.exec(line)!;
          const typed = word!.startsWith("'") ? word!.slice(1, -1).replaceAll("'\\''", "'") : word!;
          const got = atPath(read.raw[key!], path!);
          if (got !== typed)
            failures.push(
              `${shape}: ${key}${path} arrived as ${JSON.stringify(got)} (${typeof got}), not the string ${JSON.stringify(typed)}`,
            );
        }
      }
      project.must(["stack", "rm", "--yes", "--force", stack]);
    }
    assert.deepEqual(failures, [], failures.join("\n"));
  });
});
