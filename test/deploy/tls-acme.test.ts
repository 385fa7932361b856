// tls acme through the real Pulumi CLI and the docker and command plugins: the proxy gets its certificate
// from Pebble (an ACME server built here from its Go module, in a network namespace of its own) through an
// HTTP-01 challenge Pebble really validates on the published challenge port, as Let's Encrypt would from
// outside; the smoke pins Pebble's roots and proves the PNG over HTTPS; the challenge port answers nothing
// but a redirect to the HTTPS port; the preview says what the challenge opens.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request } from "node:https";
import { test } from "node:test";
import { ensureSmokeBuilt } from "../helpers/host-state.js";
import { requireEngine } from "../helpers/pulumi-cli.js";
import { requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { startPebble } from "../helpers/pebble.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { ensureCaddyImage } from "../helpers/tls-builds.js";
import { programStack } from "./fixture.js";

/** Map `name` to `address` in /etc/hosts for the smoke and the test's own clients; returns the undo. */
function hostsEntry(name: string, address: string): () => void {
  const marker = `# sdwebui-test ${process.pid}`;
  appendFileSync("/etc/hosts", `${address} ${name} ${marker}\n`);
  return () =>
    writeFileSync(
      "/etc/hosts",
      readFileSync("/etc/hosts", "utf8")
        .split("\n")
        .filter((l) => !l.endsWith(marker))
        .join("\n"),
    );
}

function get(
  url: string,
  ca?: string,
  auth?: { username: string; password: string },
): Promise<{ status: number; location?: string; issuer?: string }> {
  const headers = auth
    ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` }
    : {};
  return new Promise((resolve, reject) => {
    const cb = (res: import("node:http").IncomingMessage) => {
      const socket = res.socket as import("node:tls").TLSSocket;
      const issuer =
        typeof socket.getPeerCertificate === "function"
          ? String(socket.getPeerCertificate().issuer?.CN ?? "")
          : undefined;
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, issuer }));
    };
    const req = url.startsWith("https:")
      ? request(url, { ca, headers, agent: false, timeout: 10_000 }, cb)
      : httpRequest(url, { headers, timeout: 10_000 }, cb);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

test(
  "tls acme: a certificate from an ACME server through a really validated HTTP-01 challenge, proven by the smoke; the challenge port only redirects",
  { timeout: 900_000 },
  async (t) => {
    if (!requireEngine(t) || !requireDocker(t)) return;
    if (
      !requireOrSkip(
        t,
        process.getuid?.() === 0 ? "" : "the ACME server's namespace, the firewall and /etc/hosts need root",
      )
    )
      return;
    ensureStandinImage();
    t.diagnostic(ensureSmokeBuilt());
    const caddy = ensureCaddyImage();
    const pebble = await startPebble({ httpPort: await freePort() });
    t.after(() => pebble.stop());
    const domain = `sd-${process.pid}.sdwebui.test`;
    await pebble.addA(domain, [pebble.hostAddress]);
    t.after(hostsEntry(domain, pebble.hostAddress));
    const s = programStack({
      hostPort: await freePort(),
      settings: {
        tls: "acme",
        tlsDomain: domain,
        tlsEmail: "ops@sdwebui.test",
        tlsAcmeDirectory: pebble.directoryUrl,
        // The ACME server's own HTTPS (for the proxy) and the root it issues from (for the smoke and clients).
        tlsCaRoots: `${pebble.listenerCaPem.trim()}\n${pebble.issuerRootPem.trim()}\n`,
        tlsHttpPort: String(pebble.httpPort),
        bindAddress: pebble.hostAddress,
        tlsProxyImage: caddy,
      },
    });
    t.after(() => s.cleanUp());
    const auth = { username: s.username, password: s.password };

    const t0 = Date.now();
    try {
      s.up();
    } catch (e) {
      const logs = spawnSync("docker", ["logs", `${String(s.settings.containerName ?? `sdwebui-${s.name}`)}-tls`], {
        encoding: "utf8",
      });
      throw new Error(
        `${(e as Error).message}\n--- proxy log ---\n${logs.stdout}${logs.stderr}\n--- pebble ---\n${pebble.logs()}`,
      );
    }
    t.diagnostic(`pulumi up with the ACME certificate: ${Date.now() - t0} ms`);
    const api = String(s.stack.outputs().apiUrl);
    assert.equal(api, `https://${domain}:${s.settings.hostPort}`, "clients, and the smoke, use the domain");
    const served = await get(`${api}/sdapi/v1/options`, pebble.issuerRootPem, auth);
    assert.equal(served.status, 200);
    assert.match(served.issuer ?? "", /Pebble/, "issued by the ACME server");
    assert.match(
      pebble.logs(),
      new RegExp(
        `Attempting to validate w/ HTTP: http://${domain.replaceAll(".", "\\.")}:${pebble.httpPort}/\\.well-known/acme-challenge/`,
      ),
      "Pebble validated over HTTP on the challenge port",
    );

    const redirect = await get(`http://${domain}:${pebble.httpPort}/sdapi/v1/options`);
    assert.deepEqual(
      { status: redirect.status, location: redirect.location },
      { status: 308, location: `${api}/sdapi/v1/options` },
      "the challenge port only redirects",
    );
    const warnings = s.stack.outputs().warnings as string[];
    assert.ok(
      warnings.some((w) =>
        w.includes(`port ${pebble.httpPort} is published to every address for the ACME HTTP challenge`),
      ),
      JSON.stringify(warnings),
    );

    s.up(["--expect-no-changes"]);
  },
);
