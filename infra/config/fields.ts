// Reusable zod field types for the stack settings. Each carries a message that says what is wrong
// and how to fix it, because a user sees these messages before anything is deployed.
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { parseCidr } from "../firewall/cidr.js";
import { SAFE_PATH_CHARS } from "../../lib/shell.js";
import { TCP_PORT_MAX, TCP_PORT_MIN } from "../../lib/tcp-port.js";

/** A port setting: Pulumi's "7860" as well as 7860. */
export const tcpPort = () => integer(TCP_PORT_MIN, TCP_PORT_MAX, "a TCP port");

/** Pulumi stores scalar config as strings: accept "7860" as well as 7860. */
export function integer(min: number, max: number, what: string) {
  return z.preprocess(
    (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v),
    z
      .number({ error: `must be a whole number (${what})` })
      .int(`must be a whole number (${what})`)
      .min(min, `must be at least ${min} (${what})`)
      .max(max, `must be at most ${max} (${what})`),
  );
}

export function boolean() {
  return z.preprocess(
    (v) => (v === "true" ? true : v === "false" ? false : v),
    z.boolean({ error: "must be true or false" }),
  );
}

/** Whether a raw value (before validation) is a true boolean setting, read by the same parser. */
export const isTrue = (v: unknown): boolean => boolean().safeParse(v).data === true;

/** JSON text parsed, anything else (or text that is not JSON) as it is: Pulumi gives arrays as JSON text. */
export function parseJsonText(v: unknown): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** A parser that returns the setting's value, or a message saying what is wrong and how to write it. */
export type Parser<T extends object> = (text: string) => T | string;

/** The zod type of a setting checked by `parse`: the parser's message becomes the issue. */
export function parsedString<T extends object>(parse: Parser<T>) {
  return z.string().superRefine((v, ctx) => {
    const r = parse(v);
    if (typeof r === "string") ctx.addIssue({ code: "custom", message: r });
  });
}

/** The value of a setting that validation already accepted (throws, naming the setting, if not). */
export function parseOrThrow<T extends object>(parse: Parser<T>, setting: string, text: string): T {
  const r = parse(text);
  if (typeof r === "string") throw new Error(`${setting}: ${r}`);
  return r;
}

/** Pulumi config arrays arrive as JSON text; parse it here so a bad value becomes one issue, not a crash. */
export function list<T extends z.ZodType>(item: T) {
  return z.preprocess(
    parseJsonText,
    z.array(item, { error: "must be a list (a YAML list in the stack file, or set item by item as the fix says)" }),
  );
}

/**
 * System trees a data folder must never be in: the container writes there (as root with some images),
 * and a folder check would suggest handing them to the WebUI's uid. /run and /var/run hold docker.sock.
 */
const SYSTEM_TREES = [
  "/etc",
  "/proc",
  "/sys",
  "/dev",
  "/boot",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/usr",
  "/run",
  "/var/run",
  "/var/lib/docker",
  "/root",
  "/snap",
];
/** Shared top-level folders: fine to hold a data folder, never to be one. */
const SHARED_TOP = ["/home", "/var", "/var/lib", "/srv", "/opt", "/mnt", "/media", "/tmp", "/var/tmp"];

/** An absolute, normalised host path with no characters that need quoting, outside the system's own folders. */
export const hostPath = z.string().superRefine((p, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: "custom", message });
  if (!p.startsWith("/")) return fail("must be an absolute path, e.g. /srv/sd-webui/outputs");
  if (p === "/") return fail("must not be the root folder /; use a folder of its own, e.g. /srv/sd-webui/outputs");
  if (!SAFE_PATH_CHARS.test(p))
    return fail("may contain only letters, digits and _ . @ + / - (no spaces or shell characters)");
  if (p.endsWith("/") || p.includes("//") || p.split("/").some((c) => c === "." || c === ".."))
    return fail("must be normalised: no trailing /, no //, no . or .. components");
  const tree = SYSTEM_TREES.find((t) => p === t || p.startsWith(`${t}/`));
  if (tree)
    return fail(
      `is in ${tree}, a system folder (the container would write there, some images as root); use a folder of its own, e.g. /srv/sd-webui/outputs`,
    );
  if (SHARED_TOP.includes(p))
    return fail(
      `is ${p} itself, a folder other programs and users share; use a folder of its own inside it, e.g. ${p}/sd-webui`,
    );
});

// Normalised, because the engine stores a working directory cleaned and the provider reads it back so:
// "/app/" or "/app//x" would differ from the setting on every run and replace the container.
export const containerPath = z
  .string()
  .refine(
    (p) => p === "/" || (p.startsWith("/") && SAFE_PATH_CHARS.test(p)),
    "must be an absolute container path of letters, digits and _ . @ + / -",
  )
  .refine(
    (p) => p === "/" || !(p.endsWith("/") || p.includes("//") || p.split("/").some((c) => c === "." || c === "..")),
    "must be normalised: no trailing /, no //, no . or .. components",
  );

/** A Docker image reference: [registry[:port]/]name[:tag][@sha256:digest]. */
export const imageRef = z
  .string()
  .regex(
    /^(?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/,
    "must be a Docker image reference such as universonic/stable-diffusion-webui:full (lower-case name, optional :tag or @sha256: digest)",
  );

/** An IPv4 or IPv6 network, checked by the firewall's own parser so both layers agree (no host bits). */
export const cidr = z.string().superRefine((s, ctx) => {
  try {
    parseCidr(s);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
  }
});

/**
 * The address as Docker reports a published port's binding (Go's form: RFC 5952, lower case, the longest
 * run of zeros shortened). The provider reads the binding back in that form, so any other spelling of the
 * same address would differ from the setting on every run and replace the container.
 */
function canonicalAddress(s: string): string {
  const a = ipaddr.parse(s);
  return a.kind() === "ipv6" ? (a as ipaddr.IPv6).toRFC5952String() : a.toString();
}

export const bindAddress = z.string().superRefine((s, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: "custom", message });
  if (s.includes("%"))
    return fail("must not carry an IPv6 zone (%eth0): Docker cannot publish on a zoned address; use the address alone");
  if (isIP(s) === 0)
    return fail("must be an IP address to publish on, e.g. 0.0.0.0 (all IPv4), 127.0.0.1 or a host address");
  const a = ipaddr.parse(s);
  if (a.kind() === "ipv6" && (a as ipaddr.IPv6).isIPv4MappedAddress())
    return fail(
      `is an IPv4-mapped IPv6 address; write the IPv4 address itself: ${(a as ipaddr.IPv6).toIPv4Address().toString()}`,
    );
  if (canonicalAddress(s) !== s)
    fail(
      `must be written as Docker reports it: ${canonicalAddress(s)} (another spelling of the same address would replace the container on every run)`,
    );
});

/**
 * The host the program and the smoke step put into http://<host>:<hostPort>, checked with the URL parser
 * that later reads that URL: a host name or an IP address, no port (that is hostPort) and no zone.
 */
export const apiHost = z.string().refine((s) => {
  if (s.includes("%") || s.includes("[")) return false;
  if (isIP(s) === 6) return URL.canParse(`http://[${s}]/`);
  if (!URL.canParse(`http://${s}/`)) return false;
  const u = new URL(`http://${s}/`);
  return u.port === "" && u.hostname === s.toLowerCase();
}, "must be a host name or an IP address alone, without a port (the port is hostPort), brackets or zone");

/** Credentials end up in `--api-auth u:p[,u2:p2]`, which the WebUI splits on "," and ":". */
// A leading "-" would make the WebUI's argparse read the credential as a flag (a crash loop).
export const username = z
  .string()
  .regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}$/, "must be 1-64 ASCII letters, digits, _ . or -, not starting with -");

export const password = z.string().superRefine((p, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: "custom", message });
  if (p.length < 12) fail("is too short: use at least 12 characters (e.g. openssl rand -base64 24)");
  if (p.length > 128) fail("is too long: use at most 128 characters");
  if (p.includes(":"))
    fail('contains ":", which makes the WebUI crash at start-up (it splits --api-auth on ":"); choose one without ":"');
  if (p.includes(","))
    fail('contains ",", which the WebUI treats as a separator between credentials; choose one without ","');
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(p)) fail("contains white space or control characters; use printable characters only");
  // The WebUI decodes HTTP Basic credentials as ASCII: any other character makes every request a 401.
  if (/[^\x20-\x7e]/.test(p))
    fail(
      "contains non-ASCII characters, which the WebUI cannot decode from HTTP Basic (every request would get 401); use ASCII only",
    );
});
