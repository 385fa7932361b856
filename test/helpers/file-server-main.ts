// The test file server as its own process (e.g. inside a network namespace):
// node --import tsx test/helpers/file-server-main.ts <options.json>; prints "listening <url>".
import { readFileSync } from "node:fs";
import { startFileServer } from "./file-server.js";
import type { FileServerOptions } from "./file-server.js";

const o = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as FileServerOptions;
void startFileServer(o).then((s) => process.stdout.write(`listening ${s.url}\n`));
