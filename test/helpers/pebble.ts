// A real ACME server for the TLS tests: Pebble (Let's Encrypt's test CA) with pebble-challtestsrv as
// its DNS server, built by test/tls/build.sh. The HTTP-01 challenge is really validated (no
// PEBBLE_VA_ALWAYS_VALID): Pebble resolves the domain through challtestsrv, whose A answer is the address
// where the proxy's port is published, and fetches the token from there on `httpPort`.
//
// network "netns" (the default) runs both in a network namespace of their own (test/helpers/netns.ts),
// so a proxy in a Docker container reaches the ACME directory through the host (as it would reach a
// public CA), and Pebble reaches the proxy through a port published on the host's end of the link
// (`hostAddress`), as Let's Encrypt reaches a server through its published port 80. network "loopback"
// runs both on 127.0.0.1 for a proxy that runs as a host process.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetns, ensureIpv4Forwarding } from "./netns.js";
import type { NetnsClient } from "./netns.js";
import { freePort } from "./standin.js";
import { ensurePebbleBinaries } from "./tls-builds.js";

export interface PebbleOptions {
  network?: "netns" | "loopback";
  /** Where Pebble fetches HTTP-01 tokens (its config's httpPort): the port the proxy's :80 is published on. Default 5002. */
  httpPort?: number;
  /** Where Pebble would try TLS-ALPN-01 (its tlsPort). Default 5001. */
  tlsPort?: number;
  /** challtestsrv's A answer for every name: default `hostAddress` (netns) or 127.0.0.1 (loopback). */
  defaultIPv4?: string;
  /** Bound on the start (default 20 s). */
  startTimeoutMs?: number;
}

export interface Pebble {
  /** The ACME directory (Caddy's `acme_ca`). */
  directoryUrl: string;
  /** Pebble's HTTPS listener's CA, PEM, and a file holding it (Caddy's `acme_ca_root`; a client's trust for the directory). */
  listenerCaPem: string;
  listenerCaFile: string;
  /** The root that issues the leaf certificates (GET /roots/0 of the management interface), PEM. New on every start. */
  issuerRootPem: string;
  /** The port Pebble fetches HTTP-01 tokens from (its httpPort). */
  httpPort: number;
  /** The address Pebble's validation connects to by default; publish the proxy's HTTP port here (netns: the host's end of the link). */
  hostAddress: string;
  /** The namespace both run in (netns mode). */
  netns?: NetnsClient;
  /** Answer A queries for `host` with these addresses instead of the default. */
  addA(host: string, addresses: string[]): Promise<void>;
  /** Both processes' output so far (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A CA and a listener certificate for Pebble's HTTPS listeners, covering `address`, 127.0.0.1 and localhost. */
function listenerCertificates(dir: string, address: string): { caFile: string; certFile: string; keyFile: string } {
  const f = (n: string) => join(dir, n);
  const openssl = (args: string[]) =>
    execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
    "-days",
    "30",
    "-subj",
    "/CN=sdwebui test Pebble listener CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  openssl(["req", ...ec, "-keyout", f("key.pem"), "-out", f("listener.csr"), "-subj", "/CN=pebble"]);
  const sans = [...new Set([`IP:${address}`, "IP:127.0.0.1", "DNS:localhost", "DNS:pebble"])].join(",");
  writeFileSync(
    f("listener.ext"),
    `subjectAltName=${sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`,
  );
  openssl([
    "x509",
    "-req",
    "-in",
    f("listener.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-out",
    f("cert.pem"),
    "-days",
    "30",
    "-extfile",
    f("listener.ext"),
  ]);
  return { caFile: f("ca.pem"), certFile: f("cert.pem"), keyFile: f("key.pem") };
}

/** One HTTP(S) exchange: status and body, or the error's message as status 0. Never throws. */
function exchange(
  url: string,
  opts: { method?: string; body?: string; ca?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const request = url.startsWith("https:") ? httpsRequest : httpRequest;
    // Pebble refuses requests without a User-Agent, as RFC 8555 allows.
    const headers = { "user-agent": "sdwebui-tests" };
    const req = request(
      url,
      { method: opts.method ?? "GET", headers, ca: opts.ca, timeout: opts.timeoutMs ?? 2000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, body: e.message }));
    req.end(opts.body);
  });
}

export async function startPebble(o: PebbleOptions = {}): Promise<Pebble> {
  const bins = ensurePebbleBinaries();
  const dir = mkdtempSync(join(tmpdir(), "sd-pebble-"));
  const children: ChildProcess[] = [];
  let output = "";
  let netns: NetnsClient | undefined;
  const stop = async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? undefined
          : new Promise((r) => {
              const t = setTimeout(() => c.kill("SIGKILL"), 5000);
              c.once("exit", () => {
                clearTimeout(t);
                r(undefined);
              });
            }),
      ),
    );
    netns?.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let address: string; // where Pebble and challtestsrv's management listen
    let hostAddress: string;
    let ports: { acme: number; management: number; dns: number; challtest: number };
    if ((o.network ?? "netns") === "netns") {
      ensureIpv4Forwarding(); // containers reach the namespace through the host
      netns = createNetns();
      address = netns.clientV4;
      hostAddress = netns.hostV4;
      ports = { acme: 14000, management: 15000, dns: 8053, challtest: 8055 }; // the namespace is ours alone
    } else {
      address = hostAddress = "127.0.0.1";
      ports = {
        acme: await freePort(),
        management: await freePort(),
        dns: await freePort(),
        challtest: await freePort(),
      };
    }
    const certs = listenerCertificates(dir, address);
    const config = {
      pebble: {
        listenAddress: `${address}:${ports.acme}`,
        managementListenAddress: `${address}:${ports.management}`,
        certificate: certs.certFile,
        privateKey: certs.keyFile,
        httpPort: o.httpPort ?? 5002,
        tlsPort: o.tlsPort ?? 5001,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        retryAfter: { authz: 1, order: 1 }, // Retry-After on polls: 1 s rather than the sample config's 3 and 5
        keyAlgorithm: "ecdsa",
        profiles: { default: { description: "Let's Encrypt's classic 90 days", validityPeriod: 90 * 24 * 3600 } },
      },
    };
    writeFileSync(join(dir, "pebble-config.json"), JSON.stringify(config, null, 2));
    const run = (argv: string[], env: Record<string, string> = {}) => {
      const full = netns ? ["ip", "netns", "exec", netns.name, ...argv] : argv;
      const child = spawn(full[0]!, full.slice(1), {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const name = argv[0]!.split("/").pop();
      const add = (d: Buffer) => {
        output += d.toString().replace(/^(?=.)/gm, `[${name}] `);
      };
      child.stdout!.on("data", add);
      child.stderr!.on("data", add);
      children.push(child);
      return child;
    };
    // DNS on the namespace's (or host's) loopback; no AAAA answers: Pebble tries AAAA addresses first.
    run([
      bins.challtestsrv,
      "-dnsserver",
      `127.0.0.1:${ports.dns}`,
      "-management",
      `${address}:${ports.challtest}`,
      "-defaultIPv4",
      o.defaultIPv4 ?? hostAddress,
      "-defaultIPv6",
      "",
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-doh",
      "",
    ]);
    // NOSLEEP: validate at once rather than after 0-15 s; NONCEREJECT=0: no artificial badNonce errors.
    run([bins.pebble, "-config", join(dir, "pebble-config.json"), "-dnsserver", `127.0.0.1:${ports.dns}`], {
      PEBBLE_VA_NOSLEEP: "1",
      PEBBLE_WFE_NONCEREJECT: "0",
    });

    const ca = readFileSync(certs.caFile, "utf8");
    const directoryUrl = `https://${address}:${ports.acme}/dir`;
    const challtest = `http://${address}:${ports.challtest}`;
    const limit = o.startTimeoutMs ?? 20_000;
    const t0 = Date.now();
    for (;;) {
      const exited = children.find((c) => c.exitCode !== null);
      if (exited)
        throw new Error(`${exited.spawnargs.join(" ")} exited (${exited.exitCode}) before Pebble answered:\n${output}`);
      const [dirAnswer, dnsAnswer] = await Promise.all([exchange(directoryUrl, { ca }), exchange(`${challtest}/`)]);
      if (dirAnswer.status === 200 && dnsAnswer.status !== 0) break;
      if (Date.now() - t0 > limit)
        throw new Error(
          `Pebble did not answer ${directoryUrl} within ${limit} ms (${dirAnswer.status || dirAnswer.body}):\n${output}`,
        );
      await sleep(100);
    }
    const root = await exchange(`https://${address}:${ports.management}/roots/0`, { ca });
    if (root.status !== 200 || !root.body.includes("BEGIN CERTIFICATE"))
      throw new Error(`Pebble's /roots/0 answered ${root.status}: ${root.body.slice(0, 200)}`);
    const addA = async (host: string, addresses: string[]) => {
      const r = await exchange(`${challtest}/add-a`, { method: "POST", body: JSON.stringify({ host, addresses }) });
      if (r.status !== 200) throw new Error(`pebble-challtestsrv add-a ${host}: ${r.status} ${r.body}`);
    };
    return {
      directoryUrl,
      httpPort: config.pebble.httpPort,
      listenerCaPem: ca,
      listenerCaFile: certs.caFile,
      issuerRootPem: root.body,
      hostAddress,
      netns,
      addA,
      logs: () => output,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
