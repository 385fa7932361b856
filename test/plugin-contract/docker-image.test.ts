// RemoteImage through the real engine, against a real registry on loopback whose log shows every pull:
// a tag present on the engine is used as it is (no pull, whatever the tag), an absent one is pulled
// under the Create timeout the engine sends (P5), Read drops an image removed by hand, and Delete
// keeps or untags it. Sources: kreuzwerker v4.5.0 resource_docker_image{,_funcs}.go (findImage
// :343-378, pullImage :249-292, Read :103-132, Delete :150-220), data_source_docker_image.go:66-103
// (repo digest); bridge v3.133.0 provider.go:1340-1353 (timeouts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer, type Socket } from "node:net";
import { describe, it, type TestContext } from "node:test";
import { output } from "../helpers/engine-stack.js";
import { requireRegistry, startRegistry, type TestRegistry } from "../helpers/registry.js";
import { STANDIN_IMAGE } from "../helpers/standin.js";
import { dockerCli, dockerStack, LOCAL_ENGINE, opsOf, REMOTE_IMAGE, stateOf } from "./docker-engine.js";

const provider = { host: LOCAL_ENGINE };

async function registry(t: TestContext): Promise<TestRegistry | undefined> {
  if (!requireRegistry(t)) return undefined;
  const reg = await startRegistry();
  t.after(() => reg.stop());
  return reg;
}

const imageId = (ref: string) => dockerCli(["image", "inspect", "--format", "{{.Id}}", ref]).trim();
const hasImage = (ref: string) => spawnSync("docker", ["image", "inspect", ref], { stdio: "ignore" }).status === 0;
const untag = (ref: string) => dockerCli(["rmi", ref]);

describe("RemoteImage under the real engine", () => {
  it("a tag present on the engine is not pulled; imageId and repoDigest come from the local image (findImage looks locally first)", async (t) => {
    const reg = await registry(t);
    if (!reg) return;
    const ref = reg.push(STANDIN_IMAGE, `sdw-dk-${process.pid}/present:v1`);
    const before = reg.pulls().length;
    const stack = dockerStack(t, "dk-img-present", {
      config: { provider, images: { img: { name: ref, keepLocally: true } } },
    });
    if (!stack) return;
    stack.up();
    assert.equal(
      await reg.pulledMoreThan(before),
      false,
      `no request reached the registry: ${reg.pulls().slice(before).join("\n")}`,
    );
    const outs = stateOf(stack, REMOTE_IMAGE, "img")?.outputs;
    assert.equal(outs?.imageId, imageId(ref));
    const digests = JSON.parse(dockerCli(["image", "inspect", "--format", "{{json .RepoDigests}}", ref])) as string[];
    const mine = digests.filter((d) => d.startsWith(`${reg.address}/sdw-dk-${process.pid}/present@`));
    assert.equal(mine.length, 1, JSON.stringify(digests));
    assert.equal(outs?.repoDigest, digests.length === 1 ? digests[0] : mine[0], "the digest of the repository named");
    assert.equal(stateOf(stack, REMOTE_IMAGE, "img")?.id, `${imageId(ref)}${ref}`, "the ID is imageID + name");
    assert.deepEqual(stack.changes(), []);
  });

  it("an absent tag is pulled at create; a refresh after it was removed by hand drops the image, and the next up pulls again", async (t) => {
    const reg = await registry(t);
    if (!reg) return;
    const ref = reg.push(STANDIN_IMAGE, `sdw-dk-${process.pid}/absent:v1`);
    untag(ref);
    const stack = dockerStack(t, "dk-img-absent", {
      config: { provider, images: { img: { name: ref, keepLocally: true } } },
    });
    if (!stack) return;
    let before = reg.pulls().length;
    stack.up();
    assert.ok(await reg.pulledMoreThan(before), "the create pulled from the registry");
    t.diagnostic(`registry requests for the create: ${reg.pulls().length - before}`);
    assert.ok(hasImage(ref), "the tag is on the engine");

    untag(ref);
    stack.refresh();
    assert.equal(stateOf(stack, REMOTE_IMAGE, "img"), undefined, "Read drops a missing image");
    assert.deepEqual(opsOf(stack.changes(), "img"), ["create"]);
    before = reg.pulls().length;
    stack.up();
    assert.ok(await reg.pulledMoreThan(before), "pulled again");
  });

  it("destroy keeps the tag with keepLocally and untags it without (removeImage)", async (t) => {
    const reg = await registry(t);
    if (!reg) return;
    const kept = reg.push(STANDIN_IMAGE, `sdw-dk-${process.pid}/kept:v1`);
    const dropped = reg.push(STANDIN_IMAGE, `sdw-dk-${process.pid}/dropped:v1`);
    const stack = dockerStack(t, "dk-img-delete", {
      config: { provider, images: { kept: { name: kept, keepLocally: true }, dropped: { name: dropped } } },
    });
    if (!stack) return;
    stack.up();
    stack.destroy();
    assert.ok(hasImage(kept), "keepLocally: the delete is a no-op");
    assert.equal(hasImage(dropped), false, "otherwise the tag is removed");
    assert.ok(hasImage(STANDIN_IMAGE), "(only the tag: the image's other name stays)");
  });

  it("a pull that does not finish within the Create timeout fails the create with context deadline exceeded (P5; customTimeouts reach the provider)", async (t) => {
    // A "registry" that accepts connections and never answers: the engine's pull hangs.
    const sockets: Socket[] = [];
    const server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    t.after(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const ref = `127.0.0.1:${port}/sdw-dk/stalled:v1`;
    const stack = dockerStack(t, "dk-img-timeout", {
      config: { provider, images: { img: { name: ref, opts: { customTimeouts: { create: "4s" } } } } },
    });
    if (!stack) return;
    const t0 = Date.now();
    const r = stack.fails(["up", "--yes", "--skip-preview"]);
    const seconds = (Date.now() - t0) / 1000;
    t.diagnostic(`up failed after ${seconds.toFixed(1)} s with a 4 s create timeout`);
    assert.match(
      output(r),
      /Unable to read Docker image into resource: unable to pull image 127\.0\.0\.1:\d+\/sdw-dk\/stalled:v1: .*context deadline exceeded/,
    );
    assert.ok(seconds >= 4 && seconds < 40, `failed after the 4 s deadline (${seconds.toFixed(1)} s in all)`);
    assert.equal(stateOf(stack, REMOTE_IMAGE, "img"), undefined, "nothing recorded");
  });
});
