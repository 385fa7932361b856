// The checkpoint proof: the WebUI lists every declared checkpoint with the declared hash (where it has
// hashed the file: it hashes on load), it has loaded the declared first one (`sd_model_checkpoint`),
// and the proof image's infotext names that model. Pure: the caller fetches the lists.
import { SmokeError } from "./errors.js";
import type { SdModels } from "./schemas.js";

export interface DeclaredCheckpoint {
  /** Relative to the checkpoints folder: the WebUI's checkpoint name. */
  name: string;
  sha256: string;
}

export interface CheckpointsReport {
  loaded: { name: string; sha256: string; modelName: string };
  listed: { name: string; sha256: string; hashReported: boolean }[];
}

/** `--checkpoint <name>=<sha256>` values. */
export function parseDeclared(values: readonly string[]): DeclaredCheckpoint[] {
  return values.map((v) => {
    const i = v.lastIndexOf("=");
    return { name: v.slice(0, i), sha256: v.slice(i + 1).toLowerCase() };
  });
}

/** A title without its " [shorthash]" suffix: the checkpoint's name. */
export const titleName = (title: string): string => title.replace(/ \[[0-9a-f]{8,10}\]$/, "");
const titleHash = (title: string): string | undefined => / \[([0-9a-f]{8,10})\]$/.exec(title)?.[1];

const FIX_LISTED =
  "the placement step puts it in <modelsDir>/Stable-diffusion; check that the models folder is the one mounted into the container";

export function checkCheckpoints(
  models: SdModels,
  loadedTitle: string | null | undefined,
  declared: DeclaredCheckpoint[],
  first: string,
): CheckpointsReport {
  const names = models.map((m) => titleName(m.title));
  const listed = declared.map((d) => {
    const m = models.find((x) => titleName(x.title) === d.name);
    if (!m)
      throw new SmokeError(
        "wrong-checkpoint",
        `the WebUI does not list the declared checkpoint ${d.name} (it lists: ${names.join(", ") || "nothing"}): ${FIX_LISTED}, then redeploy`,
      );
    if (m.sha256 && m.sha256 !== d.sha256)
      throw new SmokeError(
        "wrong-checkpoint",
        `the WebUI reports sha256 ${m.sha256} for ${d.name}, but the checkpoints setting declares ${d.sha256}: the file changed after it was placed; move it away and redeploy (the placement step fetches it again)`,
      );
    return { name: d.name, sha256: d.sha256, hashReported: Boolean(m.sha256) };
  });
  const want = declared.find((d) => d.name === first)!;
  if (!loadedTitle)
    throw new SmokeError(
      "wrong-checkpoint",
      `the WebUI reports no loaded checkpoint (sd_model_checkpoint is empty); ${first} should have been loaded at start (--ckpt): see the container log`,
    );
  if (titleName(loadedTitle) !== first)
    throw new SmokeError(
      "wrong-checkpoint",
      `the WebUI has loaded ${loadedTitle}, not the declared first checkpoint ${first}: check that --ckpt reaches the WebUI (extraArgs, the image's entrypoint), or mark the checkpoint you want with loadFirst`,
    );
  const short = titleHash(loadedTitle);
  if (short === undefined || !want.sha256.startsWith(short))
    throw new SmokeError(
      "wrong-checkpoint",
      `the loaded checkpoint ${loadedTitle} does not carry the declared hash ${want.sha256.slice(0, 10)}: the WebUI hashes the model it loads unless --no-hashing is set; remove that flag`,
    );
  const entry = models.find((x) => titleName(x.title) === first)!;
  return { loaded: { name: first, sha256: want.sha256, modelName: entry.model_name }, listed };
}

/** What the proof image's infotext must say about the model, given the WebUI's infotext options. */
export function modelInfotextMismatches(
  parameters: string,
  loaded: CheckpointsReport["loaded"],
  o: { addHash: boolean; addName: boolean },
): string[] {
  const out: string[] = [];
  if (o.addHash && !new RegExp(`(^|[\\s,])Model hash: ${loaded.sha256.slice(0, 10)}(,|$|\\s)`, "m").test(parameters))
    out.push(`"parameters" does not name the model hash ${loaded.sha256.slice(0, 10)} of ${loaded.name}`);
  if (o.addName && !parameters.includes(`Model: ${loaded.modelName}`))
    out.push(`"parameters" does not name the model ${loaded.modelName}`);
  return out;
}
