#!/usr/bin/node
// /usr/bin/python3 in the stand-in image (no shell, no Python): runs ONLY the healthcheck form
// `python3 -c "...urllib.request.urlopen('<url>', timeout=N)..."`, which the real images can run too.
// GET the URL: exit 0 on 2xx, 1 otherwise (like urlopen raising); anything else: exit 2.
import { request } from "node:http";

const args = process.argv.slice(2);
const m =
  args.length === 2 && args[0] === "-c"
    ? /urlopen\(\s*['"]([^'"]+)['"]\s*(?:,\s*timeout\s*=\s*(\d+(?:\.\d+)?))?\s*\)/.exec(args[1]!)
    : null;
if (!m || !/^http:\/\//.test(m[1]!)) {
  process.stderr.write("stand-in python3 shim only runs the healthcheck\n");
  process.exit(2);
}
const timeoutMs = Math.round(parseFloat(m[2] ?? "30") * 1000);
const req = request(m[1]!, { method: "GET", timeout: timeoutMs }, (res) => {
  res.resume();
  const code = res.statusCode ?? 0;
  if (code >= 200 && code < 300) process.exit(0);
  process.stderr.write(`urllib.error.HTTPError: HTTP Error ${code}\n`);
  process.exit(1);
});
req.on("timeout", () => {
  process.stderr.write("TimeoutError: timed out\n");
  process.exit(1);
});
req.on("error", (e) => {
  process.stderr.write(`urllib.error.URLError: <urlopen error ${e.message}>\n`);
  process.exit(1);
});
req.end();
