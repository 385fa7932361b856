// The `sshKnownHosts` setting: known_hosts lines that pin the Docker hosts' keys. Pure: the parsing, the
// lines that name one host, and the key the command resources can check (the docker provider's system ssh
// takes every line; docker/ssh.ts hands them to both clients).

/** One known_hosts line: hosts, key type, base64 key (no options, no comments). */
const KNOWN_HOSTS_LINE = /^([A-Za-z0-9.:[\],*_-]+) ((?:ssh|ecdsa|sk)-[a-z0-9@.-]+) ([A-Za-z0-9+/]+={0,2})$/;

export function parseKnownHosts(text: string): { line: string; keyType: string; key: string }[] {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  return lines.map((line) => {
    const m = KNOWN_HOSTS_LINE.exec(line);
    if (!m)
      throw new Error(
        `sshKnownHosts: "${line.slice(0, 60)}" is not a known_hosts line "host key-type base64-key"; get one with: ssh-keyscan -p <port> <host>`,
      );
    return { line, keyType: m[2]!, key: m[3]! };
  });
}

/** The known_hosts lines that name `host` (all lines when none names it: the user pinned one key). */
export function knownHostsFor(knownHosts: string | undefined, host: string): string | undefined {
  if (knownHosts === undefined) return undefined;
  const lines = parseKnownHosts(knownHosts).map((k) => k.line);
  const mine = lines.filter((l) =>
    l
      .split(" ")[0]!
      .split(",")
      .some((h) => h === host || h.startsWith(`[${host}]:`)),
  );
  return (mine.length > 0 ? mine : lines).join("\n");
}

/**
 * The pinned key the command resources check: the first that is not RSA. Their ssh client offers the
 * server only the pinned key's own type, and for an RSA key that is "ssh-rsa" (SHA-1), which OpenSSH 8.8
 * and later no longer accept: every command would fail with "no common algorithm for host key".
 */
export function commandHostKey(knownHosts: string): { keyType: string; key: string } | undefined {
  return parseKnownHosts(knownHosts).find((k) => k.keyType !== "ssh-rsa");
}
