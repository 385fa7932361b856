// Certificates made in a test with the openssl CLI: a CA and server certificates it signs, for the names
// and validity a test needs (the tls files mode, expired or foreign certificates).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isIP } from "node:net";

export interface Pem {
  cert: string;
  key: string;
}

const openssl = (args: string[], cwd: string) =>
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });

/** A self-signed CA (EC P-256). */
export function makeCa(name = "sdwebui test CA"): Pem {
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-ca-"));
  try {
    openssl(
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "30",
        "-subj",
        `/CN=${name}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      dir,
    );
    return { cert: readFileSync(join(dir, "ca.crt"), "utf8"), key: readFileSync(join(dir, "ca.key"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A server certificate for `names` (DNS names or IPs) signed by `ca`, valid from `startDaysAgo` for `days` days. */
export function makeLeaf(ca: Pem, names: string[], o: { days?: number; startDaysAgo?: number } = {}): Pem {
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-leaf-"));
  try {
    writeFileSync(join(dir, "ca.crt"), ca.cert);
    writeFileSync(join(dir, "ca.key"), ca.key, { mode: 0o600 });
    const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    writeFileSync(
      join(dir, "ext.cnf"),
      `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(
      [
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        `/CN=${names[0]}`,
      ],
      dir,
    );
    if (o.startDaysAgo === undefined) {
      openssl(
        [
          "x509",
          "-req",
          "-in",
          "leaf.csr",
          "-CA",
          "ca.crt",
          "-CAkey",
          "ca.key",
          "-CAcreateserial",
          "-out",
          "leaf.crt",
          "-extfile",
          "ext.cnf",
          "-days",
          String(o.days ?? 30),
        ],
        dir,
      );
    } else {
      // A validity that starts in the past: openssl 3.0's x509 counts from now, its ca command takes dates.
      const stamp = (ms: number) => `${new Date(ms).toISOString().replace(/[-:T]/g, "").slice(2, 14)}Z`;
      const from = Date.now() - o.startDaysAgo * 86_400_000;
      writeFileSync(join(dir, "index.txt"), "");
      writeFileSync(
        join(dir, "ca.cnf"),
        `[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = any\ncopy_extensions = none\n[any]\ncommonName = supplied\n`,
      );
      writeFileSync(join(dir, "serial"), "01\n");
      openssl(
        [
          "ca",
          "-batch",
          "-config",
          "ca.cnf",
          "-cert",
          "ca.crt",
          "-keyfile",
          "ca.key",
          "-in",
          "leaf.csr",
          "-out",
          "leaf.crt",
          "-notext",
          "-extfile",
          "ext.cnf",
          "-startdate",
          stamp(from),
          "-enddate",
          stamp(from + (o.days ?? 30) * 86_400_000),
        ],
        dir,
      );
    }
    return { cert: readFileSync(join(dir, "leaf.crt"), "utf8"), key: readFileSync(join(dir, "leaf.key"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
