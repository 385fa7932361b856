// A real HTTP file server for the checkpoint tests: serves files from a folder, honours Range (206) unless
// told not to, and misbehaves on request: drop the connection half-way, require a header, answer 404.
// Every request is logged (method, path, Range, whether the expected header came). Runs in this process,
// or as its own process (file-server-main.ts), e.g. inside a network
// namespace, where it appends its log to a file.
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { createReadStream } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface FileServerOptions {
  dir: string;
  host?: string;
  port?: number;
  /** Serve 200 with the whole body even when a Range is asked for. */
  ignoreRange?: boolean;
  /** The first `dropTimes` responses stop after this many body bytes and destroy the socket. */
  dropAfterBytes?: number;
  dropTimes?: number;
  /** Send the body at about this rate (for progress lines; with noContentLength, one copy at a time); unlimited when unset. */
  bytesPerSecond?: number;
  /** A header line (`Name: value`) every request must carry, else 401. */
  requireHeader?: string;
  /** Answer every request with this status and no body (e.g. 403). */
  answerStatus?: number;
  /** Send the body without Content-Length (chunked) and ignore Range, as a dynamic download endpoint does. */
  noContentLength?: boolean;
  /** Send the file this many times over (a server that streams more than the file; with noContentLength). */
  repeat?: number;
  /** Append one JSON line per request here (for a server in another process). */
  logFile?: string;
}

export interface RequestLog {
  method: string;
  path: string;
  range: string | null;
  authorised: boolean;
  status: number;
  /** Every header the request carried, for assertions that a secret did not travel. */
  headers: Record<string, string | string[] | undefined>;
}

export interface FileServer {
  url: string;
  requests: RequestLog[];
  close(): Promise<void>;
}

function handler(o: FileServerOptions, log: (r: RequestLog) => void) {
  let drops = 0;
  const [wantName, wantValue] = o.requireHeader
    ? [
        o.requireHeader.slice(0, o.requireHeader.indexOf(":")).toLowerCase(),
        o.requireHeader.slice(o.requireHeader.indexOf(":") + 1).trim(),
      ]
    : [];
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    const range = typeof req.headers.range === "string" ? req.headers.range : null;
    const authorised = wantName === undefined || req.headers[wantName] === wantValue;
    const done = (status: number) =>
      log({ method: req.method ?? "", path, range, authorised, status, headers: req.headers });
    if (!authorised) return (res.writeHead(401).end("token required\n"), done(401));
    if (o.answerStatus) return (res.writeHead(o.answerStatus).end(), done(o.answerStatus));
    const file = join(o.dir, path);
    let size: number;
    try {
      if (path.includes("..")) throw new Error("no");
      size = statSync(file).size;
    } catch {
      return (res.writeHead(404).end("not found\n"), done(404));
    }
    if (o.noContentLength) {
      res.writeHead(200, {});
      done(200);
      const body = readFileSync(file);
      let left = o.repeat ?? 1;
      // Each copy waits for the socket to drain, so a client that stops reading stops the stream.
      const next = (): void => {
        if (left-- <= 0 || res.destroyed) return void res.end();
        const wait = o.bytesPerSecond ? (body.length / o.bytesPerSecond) * 1000 : 0;
        if (res.write(body)) setTimeout(next, wait);
        else res.once("drain", () => setTimeout(next, wait));
      };
      res.on("close", () => (left = 0));
      return next();
    }
    let start = 0;
    const m = range && !o.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= size) return (res.writeHead(416, { "content-range": `bytes */${size}` }).end(), done(416));
      res.writeHead(206, {
        "content-length": size - start,
        "content-range": `bytes ${start}-${size - 1}/${size}`,
        "accept-ranges": "bytes",
      });
    } else res.writeHead(200, { "content-length": size, ...(o.ignoreRange ? {} : { "accept-ranges": "bytes" }) });
    done(res.statusCode);
    if (req.method === "HEAD") return void res.end();
    const drop = o.dropAfterBytes !== undefined && drops < (o.dropTimes ?? 1);
    if (drop) drops++;
    const end = drop ? Math.min(size - 1, start + o.dropAfterBytes! - 1) : size - 1;
    const stream = createReadStream(file, { start, end, highWaterMark: 64 * 1024 });
    if (o.bytesPerSecond) {
      // Written by hand, not piped: pipe() resumes the file stream on every 'drain', which defeats the pause.
      stream.on("data", (chunk) => {
        res.write(chunk);
        stream.pause();
        setTimeout(() => stream.resume(), (chunk.length / o.bytesPerSecond!) * 1000);
      });
      stream.on("end", () => {
        if (!drop) res.end();
      });
    } else stream.pipe(res, { end: !drop });
    // The connection breaks half-way: the client has a partial body and a short read.
    if (drop) stream.on("end", () => setTimeout(() => req.socket.destroy(), 50));
  };
}

export async function startFileServer(o: FileServerOptions): Promise<FileServer> {
  const requests: RequestLog[] = [];
  const server: Server = createServer(
    handler(o, (r) => {
      requests.push(r);
      if (o.logFile) appendFileSync(o.logFile, `${JSON.stringify(r)}\n`);
    }),
  );
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? "127.0.0.1", resolve));
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The requests a server in another process logged to its file. */
export function readRequestLog(file: string): RequestLog[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as RequestLog);
}
