// The TLS test parts working together on the real engine: the Caddy image (npm run caddy:image) gets a
// certificate from Pebble (npm run pebble:build, test/helpers/pebble.ts) through an HTTP-01 challenge that
// Pebble really validates: it resolves the domain through challtestsrv and fetches the token from the
// port Caddy's :80 is published on, from its own network namespace, as Let's Encrypt would from outside.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { TestContext } from "node:test";
import { docker, requireDocker } from "../helpers/docker.js";
import { requireRoot } from "../helpers/netns.js";
import { startPebble } from "../helpers/pebble.js";
import type { Pebble } from "../helpers/pebble.js";
import { freePort } from "../helpers/standin.js";
import { ensureCaddyImage } from "../helpers/tls-builds.js";

/** Caddy's HTTPS port inside the container, equal to the published one so its redirect names the right port. */
const HTTPS_PORT = 7861;

/** The ACME Caddyfile: Pebble's directory and listener CA, HTTP-01 only (TLS-ALPN-01 needs port 443). */
const caddyfile = (pebble: Pebble, domain: string) => `{
	email ops@sdwebui.test
	acme_ca ${pebble.directoryUrl}
	acme_ca_root /etc/caddy/acme-ca.pem
	skip_install_trust
	servers {
		protocols h1 h2
	}
}
${domain}:${HTTPS_PORT} {
	tls {
		issuer acme {
			disable_tlsalpn_challenge
		}
	}
	respond "proxied by caddy" 200
}
`;

/** GET over HTTPS to 127.0.0.1:port naming `servername`, trusting only `ca`: the status and body, or the error. */
function httpsGet(
  port: number,
  servername: string,
  ca: string,
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        servername,
        path: "/",
        ca,
        headers: { host: `${servername}:${HTTPS_PORT}` },
        timeout: 2000,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ error: e.message }));
    req.end();
  });
}

/** A container's output: Caddy logs to stderr. */
function containerLogs(name: string): string {
  const r = spawnSync("docker", ["logs", name], { encoding: "utf8", timeout: 15_000 });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`;
}

function httpGet(url: string, host: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host }, timeout: 5000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("Caddy image and Pebble: ACME with a really validated HTTP-01 challenge", () => {
  let pebble: Pebble | undefined;
  let dir: string;
  const containers: string[] = [];
  let image: string;

  const canRun = (t: TestContext) => requireDocker(t) && requireRoot(t);

  before(async () => {
    if (process.getuid?.() !== 0) return; // each test skips with the reason
    image = ensureCaddyImage();
    dir = mkdtempSync(join(tmpdir(), "sd-acme-"));
    pebble = await startPebble({ httpPort: await freePort() });
  });
  after(async () => {
    for (const c of containers)
      try {
        docker(["rm", "-f", c]);
      } catch {
        /* gone */
      }
    await pebble?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs Caddy for `domain` with :80 published on `httpPublish` (ip:port) and HTTPS on a loopback port. */
  function runCaddy(domain: string, httpPublish: string): { name: string; httpsPort: number; logs: () => string } {
    const p = pebble!;
    const name = `sd-acme-caddy-${randomBytes(4).toString("hex")}`;
    const own = mkdtempSync(join(dir, "caddy-"));
    writeFileSync(join(own, "Caddyfile"), caddyfile(p, domain));
    writeFileSync(join(own, "acme-ca.pem"), p.listenerCaPem);
    containers.push(name);
    docker([
      "run",
      "-d",
      "--name",
      name,
      "-p",
      `${httpPublish}:80`,
      "-p",
      `127.0.0.1::${HTTPS_PORT}`,
      "-v",
      `${own}/Caddyfile:/etc/caddy/Caddyfile:ro`,
      "-v",
      `${own}/acme-ca.pem:/etc/caddy/acme-ca.pem:ro`,
      "-v",
      `${own}:/data`,
      image,
    ]);
    const mapped =
      docker(["port", name, `${HTTPS_PORT}/tcp`])
        .trim()
        .split("\n")[0] ?? "";
    return { name, httpsPort: Number(mapped.slice(mapped.lastIndexOf(":") + 1)), logs: () => containerLogs(name) };
  }

  test("Caddy obtains a certificate chaining to Pebble's root; :80 serves the challenge and otherwise a redirect", async (t) => {
    if (!canRun(t)) return;
    const p = pebble!;
    const domain = "api.sdwebui.test";
    const t0 = Date.now();
    const caddy = runCaddy(domain, `${p.hostAddress}:${p.httpPort}`);
    let last: Awaited<ReturnType<typeof httpsGet>> = { error: "not tried" };
    while (Date.now() - t0 < 60_000) {
      last = await httpsGet(caddy.httpsPort, domain, p.issuerRootPem);
      if (!("error" in last)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(
      last,
      { status: 200, body: "proxied by caddy" },
      `no certificate from Pebble within 60 s:\n${caddy.logs()}\n${p.logs()}`,
    );
    t.diagnostic(`certificate after ${Date.now() - t0} ms`);
    const caddyLog = caddy.logs();
    // Pebble fetched the token from the published :80, from its own address, through challtestsrv's A answer.
    assert.match(caddyLog, /"msg":"served key authentication".*"challenge":"http-01","remote":"[^"]*"/);
    assert.ok(
      caddyLog.includes(`"remote":"${p.netns!.clientV4}:`),
      "the challenge was served to Pebble's namespace address",
    );
    assert.doesNotMatch(caddyLog, /tls-alpn-01/);
    assert.match(
      p.logs(),
      new RegExp(
        `Attempting to validate w/ HTTP: http://${domain.replaceAll(".", "\\.")}:${p.httpPort}/\\.well-known/acme-challenge/`,
      ),
    );

    const redirect = await httpGet(`http://${p.hostAddress}:${p.httpPort}/sdapi/v1/options`, domain);
    assert.deepEqual(redirect, { status: 308, location: `https://${domain}:${HTTPS_PORT}/sdapi/v1/options` });
  });

  test("no certificate when the challenge cannot reach the proxy", async (t) => {
    if (!canRun(t)) return;
    const p = pebble!;
    const domain = "elsewhere.sdwebui.test";
    await p.addA(domain, [p.netns!.clientV4]); // an address where nothing serves the challenge
    const caddy = runCaddy(domain, "127.0.0.1:"); // :80 not where Pebble looks
    const t0 = Date.now();
    while (!/"msg":"challenge failed"/.test(caddy.logs()) && Date.now() - t0 < 30_000)
      await new Promise((r) => setTimeout(r, 200));
    assert.match(
      caddy.logs(),
      /"msg":"challenge failed".*"challenge_type":"http-01".*urn:ietf:params:acme:error:connection/,
    );
    const r = await httpsGet(caddy.httpsPort, domain, p.issuerRootPem);
    assert.ok("error" in r, `no certificate, so no TLS handshake: ${JSON.stringify(r)}`);
  });
});
