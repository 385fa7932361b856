// How a setting's value appears in an error: as the user wrote it, never a secret's value, credentials in
// URLs and credential flags masked, and no character that a terminal would act on.
import { redactCredentialArgs } from "./extra-args.js";
import { parseJsonText } from "./fields.js";

/** Where in a setting's value a problem is: list indexes and field names (checkpoints[0].sha256). */
export type ValuePath = readonly (string | number)[];

// C0 and C1 controls, DEL, and the format characters that hide or reorder text (zero-width, bidi, separators).
// eslint-disable-next-line no-control-regex -- these are the characters to escape
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** Text safe to print on a terminal: every control or format character written as \uXXXX. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `[0].sha256`, `["nvidia.com/gpu"]`: the path as Pulumi's `config set --path` writes it. */
export function pathText(path: ValuePath): string {
  return path
    .map((p) =>
      typeof p === "number" ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`,
    )
    .join("");
}

const URL_IN_TEXT = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'<>]+/g;

/** User info as shown: a password never; a bare user name of ssh and the like, but not of http(s), where it is often a token. */
function maskUserInfo(scheme: string, userInfo: string): string {
  const colon = userInfo.indexOf(":");
  if (colon >= 0) return `${userInfo.slice(0, colon)}:[secret]@`;
  return /^https?:/i.test(scheme) ? "[secret]@" : userInfo;
}

/** A URL with its password, query values and fragment masked, the rest as written. */
function maskUrl(url: string): string {
  const m = /^([^:]+:\/\/)([^/?#]*@)?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(url);
  if (!m) return url;
  const [, scheme, userInfo, rest, query, fragment] = m;
  const q =
    query === undefined
      ? ""
      : `?${query
          .split("&")
          .map((p) => (/=./.test(p) ? `${p.slice(0, p.indexOf("="))}=[secret]` : p))
          .join("&")}`;
  const f = fragment === undefined ? "" : fragment === "" ? "#" : "#[secret]";
  return `${scheme}${userInfo ? maskUserInfo(scheme!, userInfo) : ""}${rest}${q}${f}`;
}

/** A value with the credentials it may carry masked: URL user info and parameters, credential flag values. */
function maskValue(v: unknown): unknown {
  if (typeof v === "string") return v.replace(URL_IN_TEXT, maskUrl);
  if (Array.isArray(v)) {
    const redacted = redactCredentialArgs(v.map((x) => (typeof x === "string" ? x : "")));
    return v.map((x, i) => (typeof x === "string" ? maskValue(redacted[i]) : maskValue(x)));
  }
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskValue(x)]));
  return v;
}

/** The value under `path` of a raw setting: a list or map as parsed from Pulumi's JSON text, a scalar as given. */
function valueAt(raw: unknown, path: ValuePath): { found: boolean; value?: unknown } {
  const parsed = parseJsonText(raw);
  let v: unknown = typeof parsed === "object" && parsed !== null ? parsed : raw;
  for (const p of path) {
    if (typeof v !== "object" || v === null || !(p in v)) return { found: false };
    v = (v as Record<string | number, unknown>)[p];
  }
  return { found: true, value: v };
}

/** Enough for a URL or a path as written; a longer value is cut, so one setting cannot flood the error. */
const SHOWN_CHARS = 200;

/** A setting's value (or the part of it at `path`) as an error shows it; `secret`: shown as [secret]. */
export function shownValue(raw: Record<string, unknown>, key: string, secret: boolean, path: ValuePath = []): string {
  if (!(key in raw) || raw[key] === undefined) return "(not set)";
  if (secret) return "[secret]";
  const at = valueAt(raw[key], path);
  if (!at.found || at.value === undefined) return "(not set)";
  const masked = maskValue(at.value);
  const text = JSON.stringify(masked) ?? String(masked);
  return escapeControl(text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 3)}...` : text);
}
