// The harness's pure parts, without an engine: the program's container inputs map onto the Engine
// API request, unknown inputs fail loudly, GPU requests are refused on this GPU-less machine, and
// the diff/replace/ordering rules match pulumi-docker 5.2.0's schema and command 1.2.1.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { unwrapSecrets, type Registered } from "../helpers/pulumi-mocks.js";
import { containerCreate, goDurationNs, HarnessInputError } from "./harness/container-spec.js";
import { evaluateProgram, type Evaluation } from "./harness/evaluate.js";
import { decide, dependencyOrder, dependentsToReplace, forcesReplace, T } from "./harness/plan.js";
import { Redactor } from "./harness/redact.js";

const PASSWORD = "harness-test-pass-99";
let ev: Evaluation;
const inputsOf = (r: Registered) => unwrapSecrets(r.inputs) as Record<string, unknown>;
const container = () => ev.resources.find((r) => r.type === T.container)!;

before(async () => {
  ev = await evaluateProgram({
    stack: "harness-unit",
    settings: { image: "sd-webui-standin:dev", gpus: "none", outputsDir: "/srv/h/outputs", modelsDir: "/srv/h/models", hostPort: 17999, bindAddress: "127.0.0.1", firewallAllowlist: ["192.0.2.0/24"] },
    secrets: { apiPassword: PASSWORD },
  }, { imageId: () => `sha256:${"7".repeat(64)}` });
});

describe("container inputs -> Engine API create request", () => {
  it("maps every input the program registers (none left unmodelled)", () => {
    const spec = containerCreate(inputsOf(container()));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Engine API body is untyped JSON
    const body = spec.body as Record<string, any>;
    assert.equal(spec.name, "sdwebui-harness-unit");
    assert.equal(body.Image, `sha256:${"7".repeat(64)}`);
    assert.ok((body.Cmd as string[]).includes("--api"));
    assert.equal(body.User, "1000:1000");
    assert.equal(body.WorkingDir, "/app/stable-diffusion-webui");
    assert.deepEqual(body.HostConfig.PortBindings, { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "17999" }] });
    assert.deepEqual(body.HostConfig.Mounts.map((m: { Source: string; Target: string }) => `${m.Source}:${m.Target}`),
      ["/srv/h/outputs:/app/stable-diffusion-webui/outputs", "/srv/h/models:/app/stable-diffusion-webui/models"]);
    assert.equal(body.Healthcheck.Test[0], "CMD", "exec form, which the docker CLI cannot express");
    assert.equal(body.Healthcheck.Interval, 30e9);
    assert.equal(body.Healthcheck.StartPeriod, 600e9);
    assert.deepEqual(body.HostConfig.RestartPolicy, { Name: "unless-stopped" });
    assert.equal(body.Labels["sdwebui.stack"], "harness-unit");
    assert.equal(body.HostConfig.LogConfig.Type, "json-file");
    assert.equal(body.HostConfig.ShmSize, 8192 * 1024 * 1024);
    assert.equal(spec.destroyGraceS, 30);
  });

  it("fails loudly on an input it does not model, naming it", () => {
    assert.throws(() => containerCreate({ ...inputsOf(container()), sysctls: { "net.ipv4.ip_forward": "1" } }), (e: Error) =>
      e instanceof HarnessInputError && /"sysctls" is not modelled/.test(e.message));
    assert.throws(() => containerCreate({ ...inputsOf(container()), ports: [{ internal: 8080, external: 1, ip: "127.0.0.1", protocol: "tcp", mystery: 1 }] }), /ports\.mystery/);
  });

  it("refuses GPU requests on this machine unless told to drop them with a note", () => {
    const gpu = { ...inputsOf(container()), deviceRequests: [{ driver: "nvidia", count: -1, capabilities: ["gpu"] }] };
    assert.throws(() => containerCreate(gpu), /no GPU.*gpus: none/);
    assert.match(containerCreate(gpu, { gpu: "skip" }).notes.join(), /deviceRequests dropped/);
  });

  it("parses Go durations as the provider does", () => {
    assert.equal(goDurationNs("1m30s", "x"), 90e9);
    assert.equal(goDurationNs("500ms", "x"), 5e8);
    assert.throws(() => goDurationNs("30 seconds", "healthcheck.interval"), /healthcheck.interval/);
  });
});

describe("diff and ordering", () => {
  it("classifies container inputs as the docker provider does", () => {
    for (const k of ["ports", "labels", "envs", "command", "image", "mounts", "user", "logOpts"]) assert.equal(forcesReplace(T.container, k, []), true, k);
    for (const k of ["restart", "healthcheck", "wait", "destroyGraceSeconds"]) assert.equal(forcesReplace(T.container, k, []), false, k);
    assert.equal(forcesReplace(T.container, "healthcheck", ["healthcheck"]), true, "replaceOnChanges option");
    assert.throws(() => forcesReplace(T.container, "somethingNew", []), /does not know whether/);
  });

  it("commands: only triggers replace; any other change is an update", () => {
    const smoke = ev.resources.find((r) => r.type === T.local && String(inputsOf(r).create).includes("dist/smoke/cli.js"))!;
    const i = inputsOf(smoke);
    assert.equal(decide(smoke, i, { ...i, create: `${String(i.create)} --x` }).kind, "update");
    assert.equal(decide(smoke, i, { ...i, triggers: ["other-id"] }).kind, "replace");
    assert.equal(decide(smoke, i, i).kind, "same");
  });

  it("the container's program options: delete before replace, restart change is in place", () => {
    const c = container();
    const i = inputsOf(c);
    assert.deepEqual(decide(c, i, { ...i, ports: [] }), { kind: "replace", keys: ["ports"], deleteBeforeReplace: true });
    assert.deepEqual(decide(c, i, { ...i, restart: "always" }), { kind: "update", keys: ["restart"] });
  });

  it("orders by dependencies and finds the dependents a delete-before-replace of the container takes first", () => {
    const order = dependencyOrder(ev.resources).map((r) => r.type);
    assert.ok(order.indexOf(T.provider) < order.indexOf(T.container));
    assert.ok(order.indexOf(T.image) < order.indexOf(T.container));
    const deps = dependentsToReplace(container().urn, ev.resources.filter((r) => r.custom));
    const names = deps.map((r) => r.name);
    assert.ok(names.some((n) => n.includes("smoke")), `the smoke's triggers carry the container id: ${names.join()}`);
    // What the container itself depends on (folders, preflight, firewall) is never taken down with it.
    for (const d of container().dependencies) assert.ok(!deps.some((r) => r.urn === d), `${d} is not a dependent`);
  });
});

describe("redaction", () => {
  it("masks secrets in text and errors, longest first", () => {
    const r = new Redactor([PASSWORD, `e2e:${PASSWORD}`]);
    assert.equal(r.text(`--api-auth e2e:${PASSWORD} and ${PASSWORD}`), "--api-auth [secret] and [secret]");
    assert.doesNotMatch(r.error(new Error(`bad ${PASSWORD}`)).stack ?? "", new RegExp(PASSWORD));
  });
});
