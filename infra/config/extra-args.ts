// Extra WebUI flags from the user. The program owns the flags that decide exposure and layout, so
// those are refused here; flags that open the server to the world need an explicit opt-in.
import { z } from "zod";
import { CPU_MODE_FLAGS } from "../flags.js";
import { resolveFlag } from "./webui-flags.js";

/** Flags the program sets itself (a user value would silently fight the program's). */
export const OWNED_FLAGS = [
  "--api", "--api-auth", "--listen", "--port", "--server-name", "--nowebui", "--gradio-auth",
  "--gradio-auth-path", "--data-dir", "--models-dir", "--subpath",
] as const;
/** Flags set by `gpus: none` (the tokens' flag names; the values, e.g. `all`, are left out). */
export const CPU_FLAGS: readonly string[] = CPU_MODE_FLAGS.filter((t) => t.startsWith("--"));
/** Flags that would undo the checkpoints setting: another first model, or no hashes for the smoke to check. */
export const CHECKPOINT_FLAGS = ["--ckpt", "--no-hashing"] as const;
/** Flags that expose the host beyond the API: a public tunnel, extension installs, arbitrary code. */
export const INSECURE_FLAGS = ["--share", "--enable-insecure-extension-access", "--allow-code", "--ngrok"] as const;

/** Flags whose value is a credential: an error message shows them as `--flag=[secret]`. */
export const CREDENTIAL_FLAGS = ["--api-auth", "--gradio-auth", "--ngrok"] as const;

/** The tokens with every credential flag's value replaced by [secret] (`--flag=v` and `--flag v`). */
export function redactCredentialArgs(tokens: readonly string[]): string[] {
  const isCredential = (t: string | undefined) => {
    if (t === undefined || !t.startsWith("--")) return false;
    const r = resolveFlag(t);
    return "flag" in r && (CREDENTIAL_FLAGS as readonly string[]).includes(r.flag);
  };
  return tokens.map((t, i) => {
    if (isCredential(t) && t.includes("=")) return `${flagName(t)}=[secret]`;
    return isCredential(tokens[i - 1]) && !t.startsWith("--") ? "[secret]" : t;
  });
}

/** One token: a flag (`--name` or `--name=value`) or a value; no characters a shell would act on. */
export const extraArg = z.string().regex(
  /^[A-Za-z0-9_.,:=/+@%-]+$/,
  "must be a flag such as --medvram or a plain value, without spaces, quotes or shell characters",
);

export function flagName(token: string): string | undefined {
  return token.startsWith("--") ? token.split("=")[0] : undefined;
}

/** Problems with the extra flags, given the other settings they depend on. */
export function extraArgProblems(args: readonly string[], opts: { allowInsecureFlags: boolean; cpuMode: boolean; checkpointsDeclared?: boolean }): string[] {
  const problems: string[] = [];
  for (const token of args) {
    const given = flagName(token);
    if (given === undefined) continue;
    // The rules apply to the flag the WebUI will take the token for, abbreviations included.
    const resolved = resolveFlag(token);
    if ("ambiguous" in resolved) {
      problems.push(`${given} is an abbreviation of several WebUI flags (${resolved.ambiguous.join(", ")}), which stops the WebUI at start-up; write the flag in full`);
      continue;
    }
    const name = "flag" in resolved ? resolved.flag : given;
    const spelled = name === given ? name : `${given} (an abbreviation the WebUI reads as ${name})`;
    if ((OWNED_FLAGS as readonly string[]).includes(name))
      problems.push(`${spelled} is set by the program; remove it from extraArgs (use the hostPort, exposure, apiUsername/apiPassword or profile settings instead)`);
    else if (opts.checkpointsDeclared && (CHECKPOINT_FLAGS as readonly string[]).includes(name))
      problems.push(`${spelled} conflicts with the checkpoints setting (the program passes --ckpt for the loadFirst entry, and the smoke checks the hashes the WebUI reports); remove it from extraArgs`);
    else if (opts.cpuMode && CPU_FLAGS.includes(name))
      problems.push(`${spelled} is already set by gpus: none; remove it from extraArgs`);
    else if (!opts.allowInsecureFlags && (INSECURE_FLAGS as readonly string[]).includes(name))
      problems.push(`${spelled} opens the server beyond the firewalled API; remove it, or set allowInsecureFlags: true if you accept that`);
  }
  return problems;
}
