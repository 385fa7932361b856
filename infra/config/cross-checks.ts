// Checks that involve more than one key. They see the raw values, so they run even when other keys are
// bad; each returns its problems in a fixed order (the messages are compared by tests and read by users).
import { z } from "zod";
import { extraArgProblems } from "./extra-args.js";
import { containerGpus } from "./container-gpus.js";
import { isTrue, parseJsonText } from "./fields.js";
import { CUSTOM_REQUIRED } from "../webui/profiles.js";
import { sourceFolderProblems } from "./checkpoints.js";
import { hostProblems } from "./host-checks.js";
import { targetProblems } from "./kubernetes.js";
import { collect, type Problem } from "./problems.js";
import { isDefaultValue, jsonList, rawDockerHosts } from "./raw-values.js";
import { tlsProblems } from "./tls.js";
import { settingDefault } from "./schema.js";
import type { RawSettings } from "./schema.js";
import { setFix, setPathCommand } from "./fix-commands.js";

/** Every rule across keys, in the order the problems are reported. */
export function crossProblems(raw: RawSettings, stack: string | undefined): Problem[] {
  return [
    ...profileProblems(raw),
    ...folderProblems(raw),
    ...flagProblems(raw),
    ...checkpointProblems(raw),
    ...hostProblems(raw),
    ...exposureProblems(raw),
    ...targetProblems(raw, (k) => isDefaultValue(raw, k), stack),
    ...tlsProblems(raw, (k) => isDefaultValue(raw, k), rawDockerHosts),
  ];
}

/** A custom profile needs its keys; the profile keys mean nothing with a preset. */
const profileProblems = (raw: RawSettings) =>
  collect((add) => {
    if (raw.imageProfile !== "custom") {
      for (const k of Object.keys(raw).filter((k) => k.startsWith("profile") && raw[k] !== undefined))
        add(
          k,
          "is only used with imageProfile: custom",
          `pulumi config rm <ns>:${k}, or pulumi config set <ns>:imageProfile custom`,
        );
      return;
    }
    if (raw.image === undefined)
      add("image", "is required with imageProfile: custom (there is no default image)", setFix("image"));
    for (const k of CUSTOM_REQUIRED)
      if (raw[k] === undefined) add(k, "is required with imageProfile: custom", setFix(k));
    if (raw.profileFlagsVia === "env" && raw.profileFlagsEnvVar === undefined)
      add(
        "profileFlagsEnvVar",
        "is required when profileFlagsVia is env (e.g. CLI_ARGS)",
        setFix("profileFlagsEnvVar"),
      );
    if (raw.profileFlagsVia === "command" && raw.profileCommandPrefix === undefined)
      add(
        "profileCommandPrefix",
        "is required when profileFlagsVia is command (e.g. [bash, webui.sh])",
        setPathCommand("profileCommandPrefix", [0], "bash"),
      );
  });

const folderProblems = (raw: RawSettings) =>
  collect((add) => {
    const outputs = typeof raw.outputsDir === "string" ? raw.outputsDir : settingDefault("outputsDir");
    const models = typeof raw.modelsDir === "string" ? raw.modelsDir : settingDefault("modelsDir");
    if (outputs === models || outputs.startsWith(`${models}/`) || models.startsWith(`${outputs}/`))
      add(
        "modelsDir",
        `must be a folder apart from outputsDir (${outputs}); neither may contain the other`,
        setFix("modelsDir"),
      );
  });

/** extraArgs against the settings they depend on, and passwords a flags-variable image would expand. */
const flagProblems = (raw: RawSettings) =>
  collect((add) => {
    const extra = z.array(z.string()).safeParse(parseJsonText(raw.extraArgs ?? []));
    if (extra.success) {
      const ctx = {
        allowInsecureFlags: isTrue(raw.allowInsecureFlags),
        checkpointsDeclared: jsonList(raw.checkpoints).length > 0,
        ...containerGpus(raw),
      };
      for (const m of extraArgProblems(extra.data, ctx)) add("extraArgs", m, setFix("extraArgs"));
    }
    // sd-auto style images put the flags in an env var that a shell word-splits and glob-expands.
    const envMode = raw.imageProfile === "sd-auto" || (raw.imageProfile === "custom" && raw.profileFlagsVia === "env");
    if (envMode)
      for (const k of ["apiPassword", "uiPassword"] as const)
        if (typeof raw[k] === "string" && /['"\\$`*?[\]{}~;&|<>()#!]/.test(raw[k] as string))
          add(
            k,
            "contains a character that the shell in this image would expand in its flags variable (quotes, \\ $ ` * ? [ ] { } ~ ; & | < > ( ) # !); use letters, digits and + / = - _ . @ %",
            setFix(k),
          );
  });

const exposureProblems = (raw: RawSettings) =>
  collect((add) => {
    if (raw.exposure === "api-only")
      for (const k of ["uiUsername", "uiPassword"] as const)
        if (raw[k] !== undefined)
          add(k, "is not used with exposure: api-only (there is no UI)", `pulumi config rm <ns>:${k}`);
  });

/**
 * The token and the entries that use it must come together; the list itself is not a secret; a host-path
 * source must lie outside the folders the containers write.
 */
function checkpointProblems(raw: RawSettings): Problem[] {
  const out: Problem[] = [];
  const entries = jsonList(raw.checkpoints);
  const written = (["modelsDir", "outputsDir"] as const).map((key) => ({
    key,
    path: typeof raw[key] === "string" ? (raw[key] as string) : settingDefault(key),
  }));
  for (const message of sourceFolderProblems(entries, written))
    out.push({ key: "checkpoints", message, fix: setFix("checkpoints") });
  const usesToken = entries.some(
    (e) => typeof e === "object" && e !== null && isTrue((e as Record<string, unknown>).useToken),
  );
  if (usesToken && raw.checkpointToken === undefined)
    out.push({
      key: "checkpointToken",
      message: "is required: a checkpoints entry has useToken: true",
      fix: setFix("checkpointToken"),
    });
  if (!usesToken && raw.checkpointToken !== undefined)
    out.push({
      key: "checkpointToken",
      message: "is not used: no checkpoints entry has useToken: true",
      fix: `pulumi config rm <ns>:checkpointToken${entries.length > 0 ? `, or ${setPathCommand("checkpoints", ["<i>", "useToken"], "true")} for each entry <i> that needs it` : ""}`,
    });
  return out;
}
