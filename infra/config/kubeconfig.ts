// The `kubeconfig` setting: the document the Kubernetes provider loads with client-go's clientcmd,
// checked by the rules clientcmd applies before it builds a client (DirectClientConfig.ConfirmUsable):
// the context in use (kubeContext, else current-context) must exist, and the cluster it names must
// exist with a server. A user it names but the file lacks is no error to clientcmd, which then calls
// the API server anonymously and every call fails once the deploy is under way: refused here too.
import { z } from "zod";

interface Named {
  name?: unknown;
}
interface KubeconfigDoc {
  "current-context"?: unknown;
  contexts?: (Named & { context?: { cluster?: unknown; user?: unknown } })[];
  clusters?: (Named & { cluster?: { server?: unknown } })[];
  users?: (Named & { user?: unknown })[];
}

function parse(text: string): KubeconfigDoc | undefined {
  try {
    // Loaded on first use: only a Kubernetes stack has a kubeconfig, and a Docker-host run spares the load.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parse: parseYaml } = require("yaml") as typeof import("yaml");
    // logLevel error: the library's warnings quote the source line, and this text is a secret.
    const doc = parseYaml(text, { logLevel: "error" }) as unknown;
    return typeof doc === "object" && doc !== null ? (doc as KubeconfigDoc) : undefined;
  } catch {
    return undefined;
  }
}

const names = (list: Named[] | undefined): string[] => (Array.isArray(list) ? list.map((e) => String(e?.name)) : []);

/** A kubeconfig's text: YAML with at least one context (the provider reads the same document). */
export const kubeconfig = z.string().superRefine((text, ctx) => {
  const doc = parse(text);
  if (doc === undefined)
    return ctx.addIssue({ code: "custom", message: "is not a kubeconfig (it does not parse as a YAML map)" });
  if (names(doc.contexts).length === 0)
    ctx.addIssue({ code: "custom", message: "is not a kubeconfig: it has no contexts" });
});

export interface KubeconfigProblem {
  key: "kubeconfig" | "kubeContext";
  message: string;
  fix: string;
}

/** The fix for a kubeconfig that lacks something: set it again once the file has it. */
const setAfter = (what: string) =>
  `pulumi config set --secret <ns>:kubeconfig "$(cat <kubeconfig file>)" (once the file has ${what}), or pulumi config set <ns>:kubeContext <another context>`;

/** What clientcmd would refuse, or silently run without, in the context the provider will use. */
export function kubeconfigProblems(text: string, kubeContext: string | undefined): KubeconfigProblem[] {
  const doc = parse(text);
  const contexts = names(doc?.contexts);
  if (!doc || contexts.length === 0) return []; // the setting's own check says so
  const current =
    typeof doc["current-context"] === "string" && doc["current-context"] !== "" ? doc["current-context"] : undefined;
  const chosen = kubeContext ?? current;
  if (chosen === undefined)
    return [
      {
        key: "kubeContext",
        message: `is not set, and the kubeconfig setting names no current-context: the provider would have no cluster to talk to (the kubeconfig has ${contexts.join(", ")})`,
        fix: "pulumi config set <ns>:kubeContext <one of those>",
      },
    ];
  if (!contexts.includes(chosen))
    return kubeContext !== undefined
      ? [
          {
            key: "kubeContext",
            message: `is not a context of the kubeconfig setting (it has ${contexts.join(", ")})`,
            fix: "pulumi config set <ns>:kubeContext <one of those>",
          },
        ]
      : [
          {
            key: "kubeconfig",
            message: `names current-context ${chosen}, which is not one of its contexts (${contexts.join(", ")})`,
            fix: `pulumi config set <ns>:kubeContext <one of those>, or pulumi config set --secret <ns>:kubeconfig "$(cat <kubeconfig file>)" (with its current-context fixed)`,
          },
        ];
  const context = doc.contexts!.find((c) => String(c?.name) === chosen)?.context;
  const out: KubeconfigProblem[] = [];
  const cluster = typeof context?.cluster === "string" ? context.cluster : "";
  const entry = doc.clusters?.find((c) => String(c?.name) === cluster);
  if (!cluster)
    out.push({
      key: "kubeconfig",
      message: `context ${chosen} names no cluster`,
      fix: setAfter(`cluster: <name> in context ${chosen}`),
    });
  else if (!entry)
    out.push({
      key: "kubeconfig",
      message: `context ${chosen} names cluster ${cluster}, which the kubeconfig does not hold (it has ${names(doc.clusters).join(", ") || "no clusters"})`,
      fix: setAfter(`the entry of cluster ${cluster}`),
    });
  else if (typeof entry.cluster?.server !== "string" || entry.cluster.server === "")
    out.push({
      key: "kubeconfig",
      message: `cluster ${cluster} (of context ${chosen}) has no server address`,
      fix: setAfter(`server: https://<API server>:<port> in cluster ${cluster}`),
    });
  const user = typeof context?.user === "string" ? context.user : "";
  if (!user)
    out.push({
      key: "kubeconfig",
      message: `context ${chosen} names no user`,
      fix: setAfter(`user: <name> in context ${chosen}`),
    });
  else if (!names(doc.users).includes(user))
    out.push({
      key: "kubeconfig",
      message: `context ${chosen} names user ${user}, which the kubeconfig does not hold (it has ${names(doc.users).join(", ") || "no users"}): the provider would call the API server anonymously`,
      fix: setAfter(`the entry of user ${user}`),
    });
  return out;
}
