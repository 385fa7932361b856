import assert from "node:assert/strict";
import { test } from "node:test";
import { InspectSchema, containerPortFor, isLoopback, mountFor, parseProcNetTcp } from "../../smoke/container.js";
import { filePath, isLoginPage } from "../../smoke/lock.js";
import { classifyNetError } from "../../smoke/client.js";

const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F92 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0000000000000000 100 0 0 10 0
`;
const tcp6 = `  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:1F93 00000000000000000000000000000000:0000 0A
   1: 00000000000000000000000000000000:1F94 00000000000000000000000000000000:0000 0A
`;

test("/proc/net/tcp: LISTEN sockets with address and port", () => {
  assert.deepEqual(parseProcNetTcp(tcp), [
    { address: "127.0.0.1", port: 8080 },
    { address: "0.0.0.0", port: 8081 },
  ]);
  assert.deepEqual(parseProcNetTcp(tcp6), [
    { address: "::1", port: 8083 },
    { address: "::", port: 8084 },
  ]);
  assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && !isLoopback("0.0.0.0") && !isLoopback("::"));
});

test("inspect facts: mount covering a path, container port for a host port", () => {
  const facts = InspectSchema.parse([
    {
      Id: "abc",
      State: { Running: true, Pid: 42 },
      Config: { WorkingDir: "/app/stable-diffusion-webui" },
      Mounts: [
        { Type: "bind", Source: "/srv/o", Destination: "/app/stable-diffusion-webui/outputs" },
        { Type: "bind", Source: "/srv/m", Destination: "/app/stable-diffusion-webui/models" },
      ],
      NetworkSettings: { Ports: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "17860" }], "9/tcp": null } },
    },
  ])[0];
  assert.ok(facts);
  assert.equal(mountFor(facts, "/app/stable-diffusion-webui/outputs/txt2img-images")?.Source, "/srv/o");
  assert.equal(mountFor(facts, "/app/stable-diffusion-webui/outputsX"), undefined);
  assert.equal(containerPortFor(facts, 17860), 8080);
  assert.equal(containerPortFor(facts, 1), undefined);
});

test("lock helpers: /file= path encoding and the gradio login page", () => {
  assert.equal(filePath("/app/o/a b#1.png"), "/file=/app/o/a%20b%231.png");
  const page = (cfg: object) => ({
    status: 200,
    headers: {},
    body: Buffer.from(`<script>window.gradio_config = ${JSON.stringify(cfg)};</script>`),
  });
  assert.equal(isLoginPage(page({ auth_required: true })), true);
  assert.equal(isLoginPage(page({ version: "3.41.2", mode: "blocks" })), false);
});

test("network errors map to kinds", () => {
  assert.equal(classifyNetError({ code: "ECONNREFUSED" }).kind, "refused");
  assert.equal(classifyNetError({ code: "UND_ERR_SOCKET" }).kind, "reset");
  assert.equal(classifyNetError({ code: "UND_ERR_CONNECT_TIMEOUT" }).kind, "connect-timeout");
  assert.equal(classifyNetError({ name: "TimeoutError" }).kind, "timeout");
  assert.equal(classifyNetError({ cause: { code: "ECONNRESET" } }).kind, "reset");
});
