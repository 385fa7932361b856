import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCli, secretFromEnv } from "../../smoke/cli-flags.js";
import { SMOKE_EXIT, SmokeError } from "../../smoke/errors.js";

const base = [
  "--url",
  "http://127.0.0.1:7860",
  "--username",
  "sd",
  "--password-env",
  "SD_PW",
  "--outputs-dir",
  "/srv/sd/outputs",
];

const usage = (argv: string[], re: RegExp) =>
  assert.throws(
    () => parseCli(argv),
    (e: unknown) =>
      e instanceof SmokeError && e.failure === "usage" && e.exitCode === SMOKE_EXIT.usage && re.test(e.message),
  );

test("defaults follow the universonic profile", () => {
  const f = parseCli(base);
  assert.ok(f !== "help");
  assert.equal(f["container-data-root"], "/app/stable-diffusion-webui");
  assert.equal(f["container-outputs-dir"], "/app/stable-diffusion-webui/outputs");
  assert.equal(f["expected-uid"], 1000);
  assert.equal(f.exposure, "api-and-ui");
  assert.equal(f.timeout, 900);
  assert.equal(f.json, false);
  assert.equal(f.img2img, false);
});

test("flags parse and coerce", () => {
  const f = parseCli([
    ...base,
    "--json",
    "--img2img",
    "--timeout",
    "30",
    "--width",
    "128",
    "--exposure",
    "api-only",
    "--container",
    "webui-1",
  ]);
  assert.ok(
    f !== "help" &&
      f.json &&
      f.img2img &&
      f.timeout === 30 &&
      f.width === 128 &&
      f.exposure === "api-only" &&
      f.container === "webui-1",
  );
  assert.equal(parseCli(["--help"]), "help");
});

test("a password is never a flag value, and the refusal does not echo it", () => {
  for (const a of [["--password", "hunter2"], ["--password=hunter2"], ["--ui-password", "hunter2"]])
    assert.throws(
      () => parseCli([...base, ...a]),
      (e: unknown) => e instanceof SmokeError && /password-env/.test(e.message) && !e.message.includes("hunter2"),
    );
  usage([...base, "--bogus=hunter2"], /bogus/);
  assert.throws(
    () => parseCli([...base, "--bogus=hunter2"]),
    (e: unknown) => !(e as Error).message.includes("hunter2"),
  );
  usage(
    ["--url", "http://u:hunter2@127.0.0.1:1", "--username", "sd", "--password-env", "P", "--outputs-dir", "/x"],
    /must not carry credentials/,
  );
});

test("bad values name the flag", () => {
  usage([...base, "--width", "100"], /--width: must be a multiple of 8/);
  usage([...base, "--steps", "0"], /--steps/);
  usage([...base, "--exposure", "open"], /--exposure/);
  usage([...base.slice(0, 2), "--username", "sd", "--password-env", "1BAD", "--outputs-dir", "/x"], /--password-env/);
  usage(
    ["--username", "a:b", "--url", "http://x", "--password-env", "P", "--outputs-dir", "/x"],
    /--username: must not contain ':'/,
  );
  usage([...base, "--url", "ftp://x"], /--url/);
  usage([...base, "--ssh-host", "h"], /--ssh-user/);
  usage([...base, "--container", "-rm"], /--container/);
});

test("secretFromEnv names the variable, never the value", () => {
  assert.equal(secretFromEnv("--password-env", "P", { P: "s3cret" }), "s3cret");
  assert.throws(
    () => secretFromEnv("--password-env", "P", {}),
    /--password-env: the environment variable it names is not set/,
  );
  // A password typed where the variable's name belongs is not echoed.
  assert.throws(
    () => secretFromEnv("--password-env", "Hunter2Secret", {}),
    (e: unknown) => !(e as Error).message.includes("Hunter2Secret"),
  );
});

test("a malformed --url is a usage error naming the flag, not an internal error", () => {
  for (const u of ["http://", "http://exa mple", "http://[::1", "notaurl", "http://host:99999"])
    usage([...base, "--url", u], /--url/);
});
