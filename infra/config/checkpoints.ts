// The `checkpoints` setting: model files the stack places in <modelsDir>/Stable-diffusion before the
// WebUI starts, each from a URL or a path on the Docker host, each pinned by its sha256. Pure: the
// entry schema, the list-wide rules, and the names the placement step, the flags and the smoke share.
import { isIP } from "node:net";
import { z } from "zod";
import { boolean, integer } from "./fields.js";
import { SAFE_PATH_CHARS } from "../../lib/shell.js";

/** The folder under the models folder where the WebUI looks for checkpoints (every preset image). */
export const CHECKPOINTS_SUBDIR = "Stable-diffusion";

/** What the WebUI lists as a checkpoint (sd_models.list_models), VAE files excepted. */
const CHECKPOINT_FILE = /\.(safetensors|ckpt)$/i;
const VAE_FILE = /\.vae\.(safetensors|ckpt)$/i;
/** The largest sizeBytes accepted (1 PiB): far above any checkpoint, and exact in a shell's 64-bit arithmetic. */
const MAX_SIZE_BYTES = 2 ** 50;
/** A path component: no leading dot or dash, no characters a shell or the WebUI's title would act on. */
const NAME_COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

/** Problems with a file name relative to the checkpoints folder, or "" when it is fine. */
export function fileNameProblem(name: string): string {
  if (name.length > 200) return "is longer than 200 characters";
  const parts = name.split("/");
  if (name.startsWith("/") || parts.includes("..") || parts.includes("."))
    return `must stay inside <modelsDir>/${CHECKPOINTS_SUBDIR}: a relative name without /, . or .. components at the start`;
  if (!parts.every((p) => NAME_COMPONENT.test(p)))
    return "may contain only letters, digits and _ . + - (and / between folders), not starting with . or -";
  if (VAE_FILE.test(name))
    return "is a VAE file name (*.vae.safetensors), which the WebUI does not list as a checkpoint; name the checkpoint file";
  if (!CHECKPOINT_FILE.test(name))
    return "must end in .safetensors or .ckpt (the WebUI lists no other file as a checkpoint)";
  return "";
}

export type SourceKind = { kind: "url"; url: URL } | { kind: "path"; path: string };

/**
 * Words that mark a query parameter as a credential: bearer and API tokens (OAuth 2.0's access_token,
 * GitLab's private_token, Civitai's token, Google's key), passwords, and the signatures of presigned and
 * signed URLs (AWS SigV2/SigV4 Signature, X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token; Google
 * Cloud Storage X-Goog-Signature, X-Goog-Credential; Azure SAS sig; CloudFront Signature; Alibaba OSS
 * Signature and security-token; Tencent COS q-signature; Akamai hdnts/hdnea). A parameter name matches when
 * one of its words (split at - _ . and camelCase), or two neighbouring words joined, is in this list.
 */
const CREDENTIAL_WORDS = new Set([
  "token",
  "tokens",
  "accesstoken",
  "authtoken",
  "signature",
  "sig",
  "secret",
  "password",
  "passwd",
  "pwd",
  "pass",
  "credential",
  "credentials",
  "auth",
  "authorization",
  "apikey",
  "accesskey",
  "privatekey",
  "secretkey",
  "jwt",
  "hdnts",
  "hdnea",
]);
/** Whole parameter names that carry a credential although none of their words does. */
const CREDENTIAL_NAMES = new Set(["key", "awsaccesskeyid", "googleaccessid", "ossaccesskeyid", "q-ak", "key-pair-id"]);

/** The query parameters of a URL whose names say they carry a credential (names only, never values). */
function credentialQueryParams(url: URL): string[] {
  const names = url.search
    .slice(1)
    .split(/[&;]/)
    .filter((p) => p !== "")
    .map((p) => {
      const raw = p.split("=")[0]!.replace(/\+/g, " ");
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    });
  return [
    ...new Set(
      names.filter((name) => {
        const lower = name.toLowerCase();
        if (CREDENTIAL_NAMES.has(lower)) return true;
        const words = name
          .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
          .toLowerCase()
          .split(/[^a-z0-9]+/)
          .filter((w) => w !== "");
        return words.some((w, i) => CREDENTIAL_WORDS.has(w) || (i > 0 && CREDENTIAL_WORDS.has(`${words[i - 1]}${w}`)));
      }),
    ),
  ];
}

/** A source as the placement step reads it: an http(s) URL or an absolute, normalised path on the Docker host. */
function parseSource(s: string): SourceKind | string {
  if (s.startsWith("/")) {
    if (
      !SAFE_PATH_CHARS.test(s) ||
      s.endsWith("/") ||
      s.includes("//") ||
      s.split("/").some((c) => c === "." || c === "..")
    )
      return "must be an http(s):// URL or an absolute, normalised path on the Docker host of letters, digits and _ . @ + / -";
    return { kind: "path", path: s };
  }
  if (!URL.canParse(s)) return "must be an http(s):// URL or an absolute path on the Docker host";
  const url = new URL(s);
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return `uses ${url.protocol}; only https:// and http:// URLs (or a host path) are fetched`;
  if (url.username || url.password)
    return "must not carry credentials (user:password@): put the token in checkpointToken and set useToken: true";
  const secretParams = credentialQueryParams(url);
  if (secretParams.length > 0)
    return `must not carry a credential in its query (${secretParams.map((n) => JSON.stringify(n.slice(0, 40))).join(", ")}): the checkpoints list is stored in plain text (the state, the step's output, errors). For a token, put it in the checkpointToken secret and set useToken: true on the entry (curl sends it as a header); for a presigned or signed URL, download the file to the Docker host and give its path as the source`;
  if (url.hash) return "must not have a #fragment";
  // The URL reaches curl inside single quotes; the parser has already percent-encoded spaces and quotes.
  if (!/^[\x21-\x7e]+$/.test(url.href) || url.href.includes("'")) return "must be a URL of printable ASCII characters";
  return { kind: "url", url };
}

/** The file name a source gives when `fileName` is not set: the last path segment. */
function defaultFileName(source: SourceKind): string {
  if (source.kind === "path") return source.path.slice(source.path.lastIndexOf("/") + 1);
  const last = source.url.pathname.slice(source.url.pathname.lastIndexOf("/") + 1);
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

const LOOPBACK_NAMES = ["localhost", "localhost."];
/** A token may travel over plain http only to this machine's own loopback. */
function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (LOOPBACK_NAMES.includes(host.toLowerCase())) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

export const checkpointEntry = z
  .object(
    {
      source: z
        .string({ error: "is required: an https:// URL or an absolute path on the Docker host" })
        .superRefine((s, ctx) => {
          const r = parseSource(s);
          if (typeof r === "string") ctx.addIssue({ code: "custom", message: r });
        }),
      sha256: z
        .string({ error: "is required: the file's sha256 (sha256sum <file>, or the model page's SHA256)" })
        .regex(/^[0-9a-fA-F]{64}$/, "must be the file's sha256: 64 hexadecimal digits")
        .transform((h) => h.toLowerCase()),
      fileName: z.string().optional(),
      loadFirst: boolean().default(false),
      useToken: boolean().default(false),
      /** The file's exact size: the download is stopped as soon as it passes it, and free space is checked first. */
      sizeBytes: integer(1, MAX_SIZE_BYTES, "the file's exact size in bytes").optional(),
    },
    { error: "must be an object such as {source: https://…/model.safetensors, sha256: <64 hex digits>}" },
  )
  .strict()
  .superRefine((e, ctx) => {
    const source = parseSource(e.source);
    if (typeof source === "string") return;
    const name = e.fileName ?? defaultFileName(source);
    const problem = fileNameProblem(name);
    if (problem)
      ctx.addIssue({
        code: "custom",
        path: ["fileName"],
        message: e.fileName === undefined ? `(taken from the source: "${name}") ${problem}; set fileName` : problem,
      });
    if (e.useToken && source.kind === "path")
      ctx.addIssue({
        code: "custom",
        path: ["useToken"],
        message: "applies to URL sources only (a host path needs no token)",
      });
    if (e.useToken && source.kind === "url" && source.url.protocol === "http:" && !isLoopback(source.url))
      ctx.addIssue({
        code: "custom",
        path: ["useToken"],
        message: "would send checkpointToken in clear text over http://; use the https:// URL",
      });
  });

export type CheckpointEntry = z.infer<typeof checkpointEntry>;

/** A checkpoint as the placement step, the flags and the smoke use it: its final file name resolved. */
export interface Checkpoint {
  source: SourceKind;
  sha256: string;
  /** Relative to <modelsDir>/Stable-diffusion; the WebUI's checkpoint name. */
  fileName: string;
  useToken: boolean;
  loadFirst: boolean;
  /** The declared exact size in bytes, when given. */
  sizeBytes?: number;
}

export function resolveCheckpoints(entries: readonly CheckpointEntry[]): Checkpoint[] {
  return entries.map((e) => {
    const source = parseSource(e.source);
    if (typeof source === "string") throw new Error(`checkpoints: ${e.source} ${source}`);
    return {
      source,
      sha256: e.sha256,
      fileName: e.fileName ?? defaultFileName(source),
      useToken: e.useToken,
      loadFirst: e.loadFirst,
      ...(e.sizeBytes === undefined ? {} : { sizeBytes: e.sizeBytes }),
    };
  });
}

/** The checkpoint the WebUI loads at start: the one marked loadFirst, else the first in the list. */
export function firstCheckpoint(checkpoints: readonly Checkpoint[]): Checkpoint | undefined {
  return checkpoints.find((c) => c.loadFirst) ?? checkpoints[0];
}

/** Rules across the list: one file per name, one name per file, at most one loadFirst. */
// zod runs this even when an entry failed its own checks: those entries are left to their own messages.
export function checkpointListProblems(entries: readonly CheckpointEntry[]): string[] {
  const out: string[] = [];
  const all = resolveCheckpoints(
    entries.filter((e) => typeof e?.source === "string" && typeof parseSource(e.source) !== "string"),
  );
  const again = <T>(values: T[]) => values.findIndex((v, i) => values.indexOf(v) !== i);
  // The WebUI sorts and matches names case-insensitively; two names that differ only in case would clash there.
  const names = all.map((c) => c.fileName.toLowerCase());
  const n = again(names);
  if (n >= 0)
    out.push(
      `names the file ${all[n]!.fileName} twice (entries ${names.indexOf(names[n]!)} and ${n}); give each file once`,
    );
  // One name cannot be a file and, for another entry, a folder (a.safetensors and a.safetensors/b.safetensors).
  const folderOf = names.findIndex((f) => names.some((g) => g.startsWith(`${f}/`)));
  if (folderOf >= 0) {
    const inner = names.findIndex((g) => g.startsWith(`${names[folderOf]}/`));
    out.push(
      `names ${all[folderOf]!.fileName} as a file (entry ${folderOf}) and as a folder of ${all[inner]!.fileName} (entry ${inner}); one path cannot be both: rename one of them (fileName)`,
    );
  }
  const hashes = all.map((c) => c.sha256);
  const h = again(hashes);
  if (h >= 0)
    out.push(
      `declares the same sha256 for ${all[hashes.indexOf(hashes[h]!)]!.fileName} and ${all[h]!.fileName}: one file under two names; keep one entry`,
    );
  const marked = entries.filter((e) => e.loadFirst).length;
  if (marked > 1)
    out.push(
      `marks ${marked} entries loadFirst; the WebUI loads one checkpoint first: mark one (or none: then the first entry)`,
    );
  return out;
}

/** Why a host path may not be a source: the containers write there, so the file could become a link. */
export const SOURCE_IN_WRITTEN_FOLDER =
  "a folder the containers write: one of them could replace the file with a link to a host file that the placement step, which runs as root, would then read";

/**
 * Host-path sources inside the folders the containers write (the models and outputs folders), as messages.
 * Entries whose source is not a readable path are left to their own messages.
 */
export function sourceFolderProblems(entries: readonly unknown[], written: { key: string; path: string }[]): string[] {
  return entries.flatMap((e, i) => {
    const source = typeof e === "object" && e !== null ? (e as { source?: unknown }).source : undefined;
    if (typeof source !== "string" || typeof parseSource(source) === "string" || !source.startsWith("/")) return [];
    const inside = written.find((w) => source === w.path || source.startsWith(`${w.path}/`));
    return inside
      ? [
          `item ${i}: the source ${source} lies in ${inside.key} (${inside.path}), ${SOURCE_IN_WRITTEN_FOLDER}; keep the file outside the outputs and models folders (e.g. /srv/shared/models) and give that path as the source`,
        ]
      : [];
  });
}

/** checkpointToken: a bearer token, or a whole header `Name: value`; it reaches curl as a quoted config line. */
export const checkpointToken = z.string().superRefine((t, ctx) => {
  const header = /^[A-Za-z0-9-]+: [\x20-\x7e]+$/.test(t);
  const bare = /^[\x21-\x7e]+$/.test(t);
  if (!header && !bare)
    ctx.addIssue({
      code: "custom",
      message:
        "must be a token of printable ASCII without spaces, or a header line such as 'Authorization: Bearer <token>'",
    });
  else if (/["\\]/.test(t)) ctx.addIssue({ code: "custom", message: 'must not contain " or \\' });
});

/** The header line curl sends for a token setting: a bare token becomes `Authorization: Bearer <token>`. */
export function tokenHeader(token: string): string {
  return /^[A-Za-z0-9-]+: /.test(token) ? token : `Authorization: Bearer ${token}`;
}
