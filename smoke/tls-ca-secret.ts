#!/usr/bin/env node
// On Kubernetes with tls internal: every pod's proxy must issue from one CA, and the CA must outlive the
// stack (clients pin its root). A one-off Job lets Caddy make a root (`caddy validate` writes one into its
// storage) and runs this step, which keeps it in a Secret unless the Secret is there already: the first
// root ever made stays the stack's root, through every rollout, destroy and recreate.
//   node tls-ca-secret.js <namespace> <secret> <folder holding root.crt and root.key> [label=value ...]
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inClusterRequest, type ApiRequest } from "./rollout.js";

const CA_KEYS = { cert: "root.crt", key: "root.key" } as const;

async function keepCaSecret(
  api: ApiRequest,
  namespace: string,
  name: string,
  dir: string,
  labels: Record<string, string>,
): Promise<string> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
  const existing = await api("GET", `${path}/${encodeURIComponent(name)}`);
  if (existing.status === 200) {
    const data = (existing.json as { data?: Record<string, string> }).data ?? {};
    if (!data[CA_KEYS.cert] || !data[CA_KEYS.key])
      throw new Error(
        `Secret ${namespace}/${name} exists without ${CA_KEYS.cert} and ${CA_KEYS.key}; delete it (kubectl delete secret -n ${namespace} ${name}) to make a new CA`,
      );
    return `kept: the stack's CA in Secret ${namespace}/${name} (root ${fingerprint(Buffer.from(data[CA_KEYS.cert], "base64").toString())})`;
  }
  if (existing.status !== 404)
    throw new Error(
      `GET Secret ${namespace}/${name}: the API answered ${existing.status}: ${JSON.stringify(existing.json).slice(0, 300)}`,
    );
  const cert = readFileSync(join(dir, CA_KEYS.cert), "utf8");
  const key = readFileSync(join(dir, CA_KEYS.key), "utf8");
  const body = {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: { name, namespace, labels },
    data: { [CA_KEYS.cert]: Buffer.from(cert).toString("base64"), [CA_KEYS.key]: Buffer.from(key).toString("base64") },
  };
  const created = await api("POST", path, body);
  // Another Job of the same stack may have won the race: then its root is the stack's.
  if (created.status === 409) return keepCaSecret(api, namespace, name, dir, labels);
  if (created.status !== 201)
    throw new Error(
      `POST Secret ${namespace}/${name}: the API answered ${created.status}: ${JSON.stringify(created.json).slice(0, 300)}`,
    );
  return `made: the stack's CA in Secret ${namespace}/${name} (root ${fingerprint(cert)})`;
}

if (require.main === module) {
  const [namespace, name, dir, ...labelArgs] = process.argv.slice(2);
  const labels = Object.fromEntries(labelArgs.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  if (!namespace || !name || !dir) {
    process.stderr.write("usage: tls-ca-secret <namespace> <secret> <dir> [label=value ...]\n");
    process.exitCode = 2;
  } else {
    keepCaSecret(inClusterRequest(), namespace, name, dir, labels).then(
      (line) => process.stdout.write(`${line}\n`),
      (e: unknown) => {
        process.stderr.write(`tls-ca-secret: ${(e as Error).message}\n`);
        process.exitCode = 1;
      },
    );
  }
}
