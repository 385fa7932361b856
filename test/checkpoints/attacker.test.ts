// The root steps against a container that writes the models folder: as uid 1000 (the container's uid,
// through setpriv), every kind of link is planted where the placement and the folders step look (the target
// name, the part, header and error names of the old and the new layout, a sub-folder of fileName, the staging
// folder, the checkpoints folder itself, the scale-out outputs folders), pointing at victims: root-owned 0600
// files and a root-only folder. Each run must place the file correctly inside the models folder or fail with
// a clear message; afterwards every victim is checked byte for byte and the root-only folder must be empty.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { before, describe, it } from "node:test";
import { STAGING_DIR, stagedPartPath } from "../../infra/docker/steps/place-checkpoints.js";
import { foldersScript } from "../../infra/docker/steps/folders.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { entry, files, modelsDir, root, run, sha, withServer } from "./harness.js";
import type { FileServer } from "../helpers/file-server.js";

const UID = 1000;
const A = "a.safetensors";
const victims = join(root, "victims");
const secret = join(victims, "secret");
const privateDir = join(victims, "private");
const victimFiles: Record<string, Buffer> = {
  [secret]: randomBytes(4096),
  [join(victims, "config")]: Buffer.from("root: do not touch\n"),
};

/** Run a command as the container's uid (no groups, no capabilities). */
function asContainer(...argv: string[]): void {
  execFileSync("setpriv", [`--reuid=${UID}`, `--regid=${UID}`, "--clear-groups", ...argv], { stdio: "pipe" });
}
const plant = (target: string, at: string) => asContainer("ln", "-s", target, at);

/** A models folder as the folders step leaves it: the models and checkpoints folders owned by the container's uid. */
function containerModels(): { models: string; ckpt: string } {
  const models = modelsDir();
  chownSync(models, UID, UID);
  chownSync(join(models, "Stable-diffusion"), UID, UID);
  return { models, ckpt: join(models, "Stable-diffusion") };
}

function assertVictimsIntact(): void {
  for (const [file, bytes] of Object.entries(victimFiles)) {
    const st = lstatSync(file);
    assert.ok(st.isFile(), `${file} is still a file`);
    assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o600], `${file} keeps owner and mode`);
    assert.deepEqual(readFileSync(file), bytes, `${file} byte for byte`);
  }
  const st = statSync(privateDir);
  assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o700], "the root-only folder keeps owner and mode");
  assert.deepEqual(readdirSync(privateDir), [], "no file appeared in the root-only folder");
}

/** A refusal a planted link may cause: each names the path and what to do. */
const REFUSED =
  /resolved to .* while this step entered it|is a symbolic link where a folder or file of this program must be.*move it away|was replaced while this step entered it|is not this step's staging folder|staging folder .* was moved while this step ran|a link to the absolute path|leads out of the models folder|exists but is not a file/;

/** What a run may also say when a folder changes under it while it works. */
const RACED = new RegExp(
  `${REFUSED.source}|cannot enter|does not exist|something else is changing this folder|appeared while this step ran; this step never overwrites a file`,
);

let canRun = "";
before(() => {
  if (process.getuid?.() !== 0) canRun = "needs root (the placement runs as root; links are planted as uid 1000)";
  else if (spawnSync("setpriv", ["--version"]).status !== 0) canRun = "setpriv is missing (util-linux)";
  mkdirSync(privateDir, { recursive: true, mode: 0o700 });
  chmodSync(victims, 0o700);
  for (const [file, bytes] of Object.entries(victimFiles)) writeFileSync(file, bytes, { mode: 0o600 });
});

async function attack(
  t: { skip: (m: string) => void },
  plantAll: (m: { models: string; ckpt: string; s: FileServer }) => void,
  expect: "placed" | "refused",
  fileName = A,
) {
  if (!requireOrSkip(t as never, canRun)) return;
  await withServer({}, async (s) => {
    const m = containerModels();
    plantAll({ ...m, s });
    const r = await run(m.models, [entry(s, A, { fileName })]);
    if (expect === "refused") {
      assert.notEqual(r.status, 0, `refused:\n${r.stdout}`);
      assert.match(r.stderr, REFUSED);
      assert.equal(s.requests.length, 0, "nothing was fetched");
    } else {
      assert.equal(r.status, 0, r.stderr);
      const st = lstatSync(join(m.ckpt, fileName));
      assert.ok(st.isFile(), "a regular file, not a link");
      assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o644], "placed models end root-owned, mode 0644");
      assert.deepEqual(readFileSync(join(m.ckpt, fileName)), files[A]);
    }
    assertVictimsIntact();
  });
}

describe("placement as root against links planted by the container's uid", () => {
  const hash = () => sha(files[A]!);
  it("at the target name: an absolute link to a root-only file is refused", (t) =>
    attack(t, ({ ckpt }) => plant(secret, join(ckpt, A)), "refused"));
  it("at the target name: a relative link out of the models folder is refused", (t) =>
    attack(t, ({ ckpt }) => plant(relative(ckpt, secret), join(ckpt, A)), "refused"));
  it("at the target name: a dangling link into the root-only folder is refused", (t) =>
    attack(t, ({ ckpt }) => plant(join(privateDir, A), join(ckpt, A)), "refused"));
  it("at the target name: a FIFO is refused without waiting on it", (t) =>
    attack(t, ({ ckpt }) => asContainer("mkfifo", join(ckpt, A)), "refused"));
  it("at the old layout's part, headers and error names: left alone, the file is placed", (t) =>
    attack(
      t,
      ({ ckpt }) => {
        const old = `${A}.${hash().slice(0, 12)}.sdwebui-part`;
        for (const n of [old, `${old}.headers`, `${old}.headers.err`]) plant(secret, join(ckpt, n));
      },
      "placed",
    ));
  it("at the staging folder: a link to the root-only folder is refused", (t) =>
    attack(t, ({ ckpt }) => plant(privateDir, join(ckpt, STAGING_DIR)), "refused"));
  it("at the new layout's part, headers, error and lock names, in a staging folder the container made: refused", (t) =>
    attack(
      t,
      ({ ckpt }) => {
        asContainer("mkdir", "-m", "0700", join(ckpt, STAGING_DIR));
        const part = join(ckpt, stagedPartPath(A, hash()));
        for (const n of [
          part,
          part.replace(/\.part$/, ".headers"),
          part.replace(/\.part$/, ".err"),
          join(ckpt, STAGING_DIR, `${A}.lock`),
        ])
          plant(secret, n);
      },
      "refused",
    ));
  it("at a sub-folder of fileName: a link to the root-only folder is refused", (t) =>
    attack(t, ({ ckpt }) => plant(privateDir, join(ckpt, "sub")), "refused", `sub/${A}`));
  it("at a deeper sub-folder of fileName, inside a folder the container made: refused", (t) =>
    attack(
      t,
      ({ ckpt }) => {
        asContainer("mkdir", join(ckpt, "sub"));
        plant(privateDir, join(ckpt, "sub", "deeper"));
      },
      "refused",
      `sub/deeper/${A}`,
    ));
  it("at the checkpoints folder itself: a link to the root-only folder is refused", (t) =>
    attack(
      t,
      ({ ckpt }) => {
        rmSync(ckpt, { recursive: true });
        plant(privateDir, ckpt);
      },
      "refused",
    ));
  it("at the checkpoints folder itself: even a link to a folder inside the models folder is refused", (t) =>
    attack(
      t,
      ({ models, ckpt }) => {
        asContainer("mkdir", join(models, "other"));
        rmSync(ckpt, { recursive: true });
        plant("other", ckpt);
      },
      "refused",
    ));
});

describe("placement under a container that swaps folders for links while it runs", () => {
  for (const [what, swapped] of [
    ["a sub-folder of fileName", "sub"],
    ["the staging folder", `sub/${STAGING_DIR}`],
  ] as const) {
    it(`${what}: every run places the file in the models folder or refuses; no victim is touched`, async (t) => {
      if (!requireOrSkip(t, canRun)) return;
      await withServer({}, async (s) => {
        const { ckpt, models } = containerModels();
        asContainer("mkdir", join(ckpt, "sub"));
        // Create the staging folder as the step would, so that the swapper has something to move.
        if (swapped.endsWith(STAGING_DIR))
          assert.equal((await run(models, [entry(s, A, { fileName: `sub/${A}` })])).status, 0);
        const path = join(ckpt, swapped);
        const loop = `while :; do mv -T ${path} ${path}.moved 2>/dev/null; ln -s ${privateDir} ${path} 2>/dev/null; rm -f ${path}; mv -T ${path}.moved ${path} 2>/dev/null; done`;
        const swapper = spawn("setpriv", [`--reuid=${UID}`, `--regid=${UID}`, "--clear-groups", "sh", "-c", loop], {
          stdio: "ignore",
          detached: true,
        });
        try {
          const outcomes: string[] = [];
          for (let i = 0; i < 8; i++) {
            for (const d of ["sub", "sub.moved"]) rmSync(join(ckpt, d, A), { force: true });
            const r = await run(models, [entry(s, A, { fileName: `sub/${A}` })]);
            if (r.status === 0) {
              // Placed: where the models folder has it (sub may be mid-swap: read through the moved name too).
              const at = [join(ckpt, "sub", A), join(ckpt, "sub.moved", A)].find((p) => {
                try {
                  return lstatSync(p).isFile();
                } catch {
                  return false;
                }
              });
              assert.ok(at, `run ${i} placed the file in the models folder:\n${r.stdout}`);
              assert.deepEqual(readFileSync(at), files[A]);
              outcomes.push("placed");
            } else {
              assert.match(r.stderr, RACED, `run ${i} refused clearly`);
              outcomes.push("refused");
            }
            assertVictimsIntact();
          }
          t.diagnostic(`outcomes: ${outcomes.join(" ")}`);
        } finally {
          process.kill(-swapper.pid!, "SIGKILL");
        }
        assertVictimsIntact();
      });
    });
  }
});

describe("the folders step as root against links planted by the container's uid", () => {
  const attempt = (
    t: { skip: (m: string) => void },
    plantAll: (o: string, m: string) => void,
    instances: string[] = [],
  ) => {
    if (!requireOrSkip(t as never, canRun)) return;
    const base = join(root, `folders-${randomBytes(4).toString("hex")}`);
    const [o, m] = [join(base, "outputs"), join(base, "models")];
    mkdirSync(o, { recursive: true });
    mkdirSync(m, { recursive: true });
    chownSync(o, UID, UID);
    chownSync(m, UID, UID);
    plantAll(o, m);
    const r = spawnSync(
      "/bin/sh",
      [
        "-c",
        foldersScript({
          outputsDir: o,
          modelsDir: m,
          instanceOutputsDirs: instances.map((i) => join(o, i)),
          uid: UID,
          gid: UID,
          profile: "universonic",
        }),
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(
      r.stderr,
      /is a symbolic link where a folder or file of this program must be; this step runs as root and never follows a link there/,
    );
    assertVictimsIntact();
  };
  it("the checkpoints folder as a link to the root-only folder: refused, never chowned", (t) =>
    attempt(t, (_o, m) => plant(privateDir, join(m, "Stable-diffusion"))));
  it("the checkpoints folder as a dangling link: refused, nothing created behind it", (t) =>
    attempt(t, (_o, m) => plant(join(privateDir, "new"), join(m, "Stable-diffusion"))));
  it("a scale-out outputs folder as a link to the root-only folder (a single container wrote outputs before): refused", (t) =>
    attempt(t, (o) => plant(privateDir, join(o, "gpu1")), ["gpu0", "gpu1"]));
});
