// HTTPS in front of the API through the real Pulumi CLI, the docker and command plugins and a Caddy image
// built here from its Go module, on this machine's Docker engine: tls internal (the proxy's own CA, its root a
// stack output; the smoke pins it; the WebUI publishes nothing; destroy and recreate keep the CA, so a client
// pinned before still connects) and tls files (a certificate made here; a new one is served after `up` without
// restarting the WebUI or the proxy). Steps run in order; after a failed step the rest skip.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { ofType } from "../helpers/engine-stack.js";
import { ensureSmokeBuilt, httpsGet, inspectContainer } from "../helpers/host-state.js";
import { requireEngine } from "../helpers/pulumi-cli.js";
import { requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { ensureCaddyImage } from "../helpers/tls-builds.js";
import { makeCa, makeLeaf } from "../helpers/certs.js";
import { PROXY_PORTS } from "../../infra/tls/caddyfile.js";
import { programStack, type ProgramStack } from "./fixture.js";

function steps(t: TestContext) {
  let failed: string | undefined;
  return (name: string, fn: () => void | Promise<void>) =>
    t.test(name, async (st) => {
      if (failed) return st.skip(`an earlier step failed (${failed})`);
      const t0 = Date.now();
      try {
        await fn();
      } catch (e) {
        failed = name;
        throw e;
      }
      st.diagnostic(`${name}: ${Date.now() - t0} ms`);
    });
}

function ready(t: TestContext): string | undefined {
  if (!requireEngine(t) || !requireDocker(t)) return undefined;
  if (!requireOrSkip(t, process.getuid?.() === 0 ? "" : "the firewall and the proxy's folders need root"))
    return undefined;
  ensureStandinImage();
  t.diagnostic(ensureSmokeBuilt());
  return ensureCaddyImage();
}

const proxyOf = (s: ProgramStack) => `${s.stack.outputs().containerName as string}-tls`;

test(
  "tls internal: the proxy's CA pinned by the smoke and by clients, the WebUI unpublished, the CA kept across destroy and recreate",
  { timeout: 900_000 },
  async (t) => {
    const caddy = ready(t);
    if (!caddy) return;
    const s = programStack({ hostPort: await freePort(), settings: { tls: "internal", tlsProxyImage: caddy } });
    t.after(() => s.cleanUp());
    const step = steps(t);
    const auth = { username: s.username, password: s.password };
    let root = "";
    let api = "";

    await step(
      "deploy: pulumi up proves the PNG over HTTPS with the proxy's root pinned; the root is a stack output",
      () => {
        s.up();
        const out = s.stack.outputs();
        api = String(out.apiUrl);
        assert.match(api, /^https:\/\/127\.0\.0\.1:\d+$/);
        root = String(out.tlsRootCertificate);
        const cert = new X509Certificate(root);
        assert.ok(cert.ca, "a CA certificate");
        assert.ok(existsSync(String(out.smokeFile)), "the proven PNG is on the host");
        assert.ok(
          existsSync(join(s.root, "tls", "data", "caddy", "pki", "authorities", "local", "root.key")),
          "the CA lives in the host folder",
        );
      },
    );

    await step(
      "a client pinning the root reaches the API with the password; without the pin the certificate is refused",
      async () => {
        assert.equal((await httpsGet(`${api}/sdapi/v1/options`, root, auth)).status, 200);
        assert.equal((await httpsGet(`${api}/sdapi/v1/options`, root)).status, 401, "the API still wants its password");
        await assert.rejects(
          httpsGet(`${api}/sdapi/v1/options`, undefined, auth),
          /self[- ]signed|unable to (get|verify)/i,
        );
      },
    );

    await step(
      "the WebUI publishes no port and sits on the stack's network; only the proxy publishes the HTTPS port",
      () => {
        const webui = inspectContainer(String(s.stack.outputs().containerName));
        assert.deepEqual(Object.keys(webui.HostConfig.PortBindings ?? {}), [], "no published port on the WebUI");
        assert.match(webui.HostConfig.NetworkMode, /-net$/);
        const proxy = inspectContainer(proxyOf(s));
        assert.equal(
          proxy.HostConfig.PortBindings[`${PROXY_PORTS.https}/tcp`]?.[0]?.HostPort,
          String(s.settings.hostPort),
        );
        assert.equal(proxy.HostConfig.NetworkMode, webui.HostConfig.NetworkMode);
      },
    );

    await step("pulumi up --expect-no-changes straight after", () => {
      s.up(["--expect-no-changes"]);
    });

    await step(
      "destroy keeps the CA; recreate serves a certificate of the same root, and the client pinned before still connects",
      async () => {
        s.stack.destroy();
        assert.equal(ofType(s.stack.resources(), "docker:index/container:Container").length, 0);
        assert.ok(
          existsSync(join(s.root, "tls", "data", "caddy", "pki", "authorities", "local", "root.crt")),
          "the CA outlives the stack",
        );
        s.up();
        const again = String(s.stack.outputs().tlsRootCertificate);
        assert.equal(
          new X509Certificate(again).fingerprint256,
          new X509Certificate(root).fingerprint256,
          "the same root",
        );
        assert.equal((await httpsGet(`${api}/sdapi/v1/options`, root, auth)).status, 200, "the old pin still works");
      },
    );
  },
);

test(
  "tls files: the given certificate is served and pinned; a new one is served after pulumi up, with neither the WebUI nor the proxy restarted",
  { timeout: 900_000 },
  async (t) => {
    const caddy = ready(t);
    if (!caddy) return;
    const ca = makeCa();
    const first = makeLeaf(ca, ["127.0.0.1"]);
    const s = programStack({
      hostPort: await freePort(),
      settings: { tls: "files", tlsProxyImage: caddy, tlsCaRoots: ca.cert },
    });
    t.after(() => s.cleanUp());
    const step = steps(t);
    const auth = { username: s.username, password: s.password };
    const setPem = (p: { cert: string; key: string }) =>
      s.stack.setConfig({ tlsCertificate: p.cert, tlsKey: p.key }, ["tlsCertificate", "tlsKey"], "sdwebui");
    let before: { webui: string; proxy: string; proxyId: string } | undefined;

    await step(
      "deploy with the certificate: the smoke proves the PNG pinning the CA, the proxy serves exactly that certificate",
      async () => {
        setPem(first);
        s.up();
        const api = String(s.stack.outputs().apiUrl);
        const served = await httpsGet(`${api}/sdapi/v1/options`, ca.cert, auth);
        assert.equal(served.status, 200);
        assert.equal(served.fingerprint, new X509Certificate(first.cert).fingerprint256);
        const webui = inspectContainer(String(s.stack.outputs().containerName));
        const proxy = inspectContainer(proxyOf(s));
        before = { webui: webui.State.StartedAt, proxy: proxy.State.StartedAt, proxyId: proxy.Id };
      },
    );

    await step("the key never appears in plain text in the state or in anything the CLI printed", () => {
      const keyBody = first.key.split("\n").find((l) => l.length > 40)!;
      assert.ok(!JSON.stringify(s.stack.resources()).includes(keyBody), "not in the state");
      assert.ok(!s.printed.join("\n").includes(keyBody), "not in the CLI's output");
    });

    await step(
      "a new certificate: pulumi up reloads the proxy; the new one is served, the WebUI and the proxy kept running",
      async () => {
        const second = makeLeaf(ca, ["127.0.0.1"]);
        setPem(second);
        s.up();
        const api = String(s.stack.outputs().apiUrl);
        const served = await httpsGet(`${api}/sdapi/v1/options`, ca.cert, auth);
        assert.equal(served.fingerprint, new X509Certificate(second.cert).fingerprint256, "the new certificate");
        const webui = inspectContainer(String(s.stack.outputs().containerName));
        const proxy = inspectContainer(proxyOf(s));
        assert.equal(webui.State.StartedAt, before!.webui, "the WebUI was not restarted (its model stays loaded)");
        assert.equal(proxy.Id, before!.proxyId, "the same proxy container");
        assert.equal(proxy.State.StartedAt, before!.proxy, "the proxy reloaded without a restart");
      },
    );
  },
);
