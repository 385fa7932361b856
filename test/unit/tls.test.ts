// The tls pieces without an engine: the Caddyfiles the program writes, checked by Caddy's own parser (the
// test image built from Caddy's Go module); the proxy image default against the version the tests build;
// the preview's transport warnings; the roots a client pins; no key ever in a config error.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_PROXY_IMAGE, transportWarnings } from "../../infra/config/tls.js";
import { ConfigError, validateSettings } from "../../infra/config/validate.js";
import { SECRET_KEYS } from "../../infra/config/schema.js";
import { caddyfile, type ProxySite } from "../../infra/tls/caddyfile.js";
import { pinnedRoots } from "../../infra/config/tls.js";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { requireDocker } from "../helpers/docker.js";
import { ensureCaddyImage } from "../helpers/tls-builds.js";
import { makeCa, makeLeaf } from "../helpers/certs.js";
import { TLS_BAD, TLS_KEY_LINES } from "./bad-config-tls.js";

const SITES: [string, ProxySite][] = [
  [
    "internal by IP",
    { mode: "internal", host: "127.0.0.1", publicPort: 7860, upstream: { host: "sdwebui-dev", port: 8080 } },
  ],
  [
    "internal by IPv6",
    { mode: "internal", host: "2001:db8::5", publicPort: 7860, upstream: { host: "sdwebui-dev", port: 8080 } },
  ],
  [
    "internal, shared root",
    {
      mode: "internal",
      host: "sdwebui.ns.svc",
      publicPort: 7860,
      upstream: { host: "localhost", port: 8080 },
      sharedCaRoot: true,
    },
  ],
  [
    "files",
    { mode: "files", host: "gpu-1.example.com", publicPort: 443, upstream: { host: "sdwebui-dev-gpu0", port: 7860 } },
  ],
  [
    "acme with a private CA",
    {
      mode: "acme",
      host: "sd.example.com",
      publicPort: 8443,
      upstream: { host: "sdwebui-dev", port: 8080 },
      acme: {
        email: "ops@example.com",
        directory: "https://ca.example.com:9000/acme/acme/directory",
        hasCaRoots: true,
      },
    },
  ],
];

describe("the proxy's Caddyfiles", () => {
  for (const [what, site] of SITES) {
    it(`${what}: Caddy's own adapter accepts it`, (t) => {
      if (!requireDocker(t)) return;
      const image = ensureCaddyImage();
      const r = spawnSync(
        "docker",
        [
          "run",
          "--rm",
          "-i",
          "--entrypoint",
          "caddy",
          image,
          "adapt",
          "--config",
          "/dev/stdin",
          "--adapter",
          "caddyfile",
          "--validate",
        ],
        { input: caddyfile(site), encoding: "utf8", timeout: 60_000 },
      );
      // --validate provisions the modules: the site's files (certificate, key, roots) do not exist in this container.
      const missingFiles =
        site.mode === "files" || site.sharedCaRoot || site.acme?.hasCaRoots ? /no such file or directory/ : /$^/;
      assert.ok(r.status === 0 || missingFiles.test(r.stderr), `caddy adapt: ${r.stderr}`);
      const json = r.status === 0 ? JSON.parse(r.stdout) : undefined;
      if (json)
        assert.ok(
          JSON.stringify(json).includes(`"${site.upstream.host}:${site.upstream.port}"`),
          "the upstream is in the adapted config",
        );
    });
  }

  it("refuses a value that would end a Caddyfile token", () => {
    assert.throws(
      () => caddyfile({ mode: "internal", host: "a b", publicPort: 1, upstream: { host: "x", port: 1 } }),
      /cannot be written/,
    );
    assert.throws(
      () =>
        caddyfile({
          mode: "acme",
          host: "sd.example.com",
          publicPort: 1,
          upstream: { host: "x", port: 1 },
          acme: { email: "a@b}", directory: "https://x", hasCaRoots: false },
        }),
      /cannot be written/,
    );
  });

  it("acme: the HTTP port answers with a redirect to the public HTTPS port, not Caddy's inside one", () => {
    const text = caddyfile(SITES[4]![1]);
    assert.match(text, /http:\/\/sd\.example\.com \{\n\tredir https:\/\/sd\.example\.com:8443\{uri\} 308/);
    assert.match(text, /auto_https disable_redirects/);
  });
});

describe("tls settings", () => {
  it("the default proxy image is the Caddy version the tests build from its Go module", () => {
    const version = /^CADDY_VERSION=v(\S+)$/m.exec(readFileSync(join(REPO_ROOT, "test/tls/build.sh"), "utf8"))?.[1];
    assert.equal(DEFAULT_PROXY_IMAGE, `caddy:${version}`);
  });

  it("preview warns of plain HTTP beyond loopback and of the port the ACME challenge opens, and of nothing else", () => {
    const base = { hostPort: 7860, tlsHttpPort: 80 };
    assert.match(
      transportWarnings({ ...base, tls: "off", bindAddress: "0.0.0.0" })[0]!,
      /password crosses the network in clear/,
    );
    assert.deepEqual(transportWarnings({ ...base, tls: "off", bindAddress: "127.0.0.1" }), []);
    assert.deepEqual(transportWarnings({ ...base, tls: "internal", bindAddress: "0.0.0.0" }), []);
    assert.match(
      transportWarnings({ ...base, tls: "acme", bindAddress: "0.0.0.0", tlsDomain: "sd.example.com" })[0]!,
      /port 80 is published to every address.*https:\/\/sd\.example\.com:7860/,
    );
  });

  it("a client pins the configured roots, else a self-signed certificate's own, else nothing (the system's roots)", () => {
    const ca = makeCa();
    const leaf = makeLeaf(ca, ["127.0.0.1"]);
    assert.equal(pinnedRoots({ tlsCaRoots: ca.cert }, leaf.cert), ca.cert);
    assert.equal(pinnedRoots({}, leaf.cert), undefined, "a CA-issued chain without its root: the system's roots");
    assert.equal(pinnedRoots({}, `${leaf.cert}${ca.cert}`)?.trim(), ca.cert.trim(), "the chain's self-signed top");
  });

  it("no private key appears in any tls config error", () => {
    for (const [raw] of TLS_BAD) {
      try {
        validateSettings({ apiPassword: "Tr0ub4dor&3-horse", ...raw }, (k) =>
          (SECRET_KEYS as readonly string[]).includes(k),
        );
        assert.fail("refused");
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        for (const line of TLS_KEY_LINES) assert.ok(!e.message.includes(line), `no key text in:\n${e.message}`);
      }
    }
  });
});
