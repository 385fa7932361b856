// A loopback TCP relay that counts the bytes each way, so "bytes over the wire" means what crossed the
// socket (headers and body, as the client's HTTP stack sent and received them).
import { createServer, connect } from "node:net";
import type { Server, Socket } from "node:net";

export interface WireCounter {
  url: string;
  /** Bytes client -> server and server -> client since the last reset. */
  read(): { up: number; down: number };
  reset(): void;
  close(): Promise<void>;
}

export async function countingRelay(targetHost: string, targetPort: number): Promise<WireCounter> {
  let up = 0;
  let down = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    client.on("data", (d: Buffer) => (up += d.length));
    upstream.on("data", (d: Buffer) => (down += d.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    read: () => ({ up, down }),
    reset: () => {
      up = 0;
      down = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
