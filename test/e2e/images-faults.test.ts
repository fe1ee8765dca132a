// PullImage when the network or the registry misbehaves: shared downloads, a connection cut
// mid-layer (Range resume), a stall (DEADLINE_EXCEEDED, then resume), and hostile content —
// wrong digests, truncation, bad manifests, unknown media types, corrupt layers — stored nowhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { status as code } from "@grpc/grpc-js";
import { pushBlob, pushManifest, sha256 } from "../fixtures/distribution.js";
import { MT, hostPlatform, pushBusybox, pushImage, type PushedImage } from "../fixtures/images.js";
import { buildTar } from "../fixtures/layers.js";
import { startProxy, type FixtureProxy, type ProxyHandler } from "../fixtures/proxy.js";
import type { FixtureRegistry } from "../fixtures/registry.js";
import type { Daemon } from "../fixtures/daemon.js";
import { assertNothingStored, daemon, grpcError, hexOf, list, onDisk, pull, registry, remove, tempDir, writeHosts, type T } from "./images-kit.js";

/** A registry behind a fault-injecting proxy, and a daemon that reaches the registry's host through it. */
async function proxied(t: T, handler: ProxyHandler, toml = ""): Promise<{ reg: FixtureRegistry; proxy: FixtureProxy; d: Daemon }> {
  const reg = await registry(t);
  const proxy = await startProxy(reg, handler);
  t.after(() => proxy.stop());
  const certsD = await tempDir(t, "berth-certsd-");
  await writeHosts(certsD, reg.host, `server = "${proxy.url}"\n`);
  const d = await daemon(t, certsD, toml);
  return { reg, proxy, d };
}

const isBlob = (url: string | undefined, digest: string): boolean => (url ?? "").includes(`/blobs/${digest}`);
const blobGets = (p: FixtureProxy, digest: string) => p.requests.filter((r) => r.method === "GET" && isBlob(r.url, digest));

/** An image with one incompressible layer of `bytes`, so a download takes a while. */
async function pushBig(reg: FixtureRegistry, repo: string, bytes: number): Promise<PushedImage> {
  return pushImage(reg, { repo, tag: "v1", layers: [{ entries: [{ type: "file", path: "blob.bin", content: randomBytes(bytes) }] }] });
}

test("two concurrent pulls of one image share one download of each blob", async (t) => {
  let img: PushedImage | undefined;
  const { reg, proxy, d } = await proxied(t, async ({ req, forward, send }) => {
    if (!img || !isBlob(req.url, img.layers[0]!.digest)) return false;
    const raw = await forward();
    await new Promise((r) => setTimeout(r, 300)); // keep the first download in flight while the second pull arrives
    send(raw);
    return true;
  });
  img = await pushBig(reg, "big", 4 << 20);
  const [a, b] = await Promise.all([pull(d, img.reference), pull(d, img.reference)]);
  assert.equal(a, img.configDigest);
  assert.equal(b, img.configDigest);
  assert.equal(blobGets(proxy, img.layers[0]!.digest).length, 1, "one GET of the layer");
  assert.equal(blobGets(proxy, img.configDigest).length, 1, "one GET of the config");
  assert.equal((await list(d)).length, 1);
});

test("a connection cut mid-layer is resumed with Range within the pull", async (t) => {
  let img: PushedImage | undefined;
  let cutAt = 0;
  const { reg, proxy, d } = await proxied(t, async ({ req, res, forward, seen }) => {
    if (!img || !isBlob(req.url, img.layers[0]!.digest) || seen > 0) return false;
    const raw = await forward();
    cutAt = Math.floor(raw.body.length / 2);
    res.writeHead(200, { "content-length": String(raw.body.length), "content-type": "application/octet-stream" });
    res.write(raw.body.subarray(0, cutAt), () => setTimeout(() => res.socket?.destroy(), 50));
    return true;
  });
  img = await pushBig(reg, "big", 2 << 20);
  assert.equal(await pull(d, img.reference), img.configDigest);
  const gets = blobGets(proxy, img.layers[0]!.digest);
  assert.equal(gets.length, 2);
  assert.equal(gets[0]!.headers.range, undefined);
  const m = /^bytes=(\d+)-$/.exec(String(gets[1]!.headers.range));
  assert.ok(m, `second GET asks for the rest: ${gets[1]!.headers.range}`);
  assert.ok(Number(m[1]) > 0 && Number(m[1]) <= cutAt, `resumed at ${m[1]} (cut at ${cutAt})`);
  assert.deepEqual((await onDisk(d)).partials, []);
});

test("a stall fails with DEADLINE_EXCEEDED naming the layer; the next pull resumes the .partial with Range", async (t) => {
  let img: PushedImage | undefined;
  let stalled = 0;
  const { reg, proxy, d } = await proxied(t, async ({ req, res, forward, seen }) => {
    if (!img || !isBlob(req.url, img.layers[0]!.digest) || seen > 0) return false;
    const raw = await forward();
    stalled = Math.floor(raw.body.length / 3);
    res.writeHead(200, { "content-length": String(raw.body.length) });
    res.write(raw.body.subarray(0, stalled)); // then nothing; the connection stays open
    return true;
  }, `stall_timeout = "500ms"`);
  img = await pushBig(reg, "big", 2 << 20);
  const layer = img.layers[0]!.digest;
  const started = Date.now();
  await assert.rejects(pull(d, img.reference), grpcError(code.DEADLINE_EXCEEDED, new RegExp(`layer 1 of 1 \\(${layer}\\).*no data from the registry for 500 ms`)));
  assert.ok(Date.now() - started < 10_000);
  const disk = await onDisk(d);
  assert.deepEqual(disk.partials, [`sha256-${hexOf(layer)}.partial`], "the partial download is kept");
  assert.deepEqual(disk.layers, []);
  assert.deepEqual(await list(d), []);

  assert.equal(await pull(d, img.reference), img.configDigest);
  const gets = blobGets(proxy, layer);
  assert.equal(gets.length, 2);
  const m = /^bytes=(\d+)-$/.exec(String(gets[1]!.headers.range));
  assert.ok(m && Number(m[1]) > 0 && Number(m[1]) <= stalled, `the retry resumed: ${gets[1]!.headers.range} (stalled after ${stalled})`);
  assert.deepEqual((await onDisk(d)).partials, []);
});

test("a blob whose bytes do not match its digest is refused and nothing is stored", async (t) => {
  let img: PushedImage | undefined;
  const { reg, d } = await proxied(t, async ({ req, forward, send }) => {
    if (!img || !isBlob(req.url, img.layers[0]!.digest)) return false;
    const raw = await forward();
    const body = Buffer.from(raw.body);
    body[body.length >> 1] = (body[body.length >> 1] ?? 0) ^ 0xff; // one flipped byte, same length
    send({ ...raw, body });
    return true;
  });
  img = await pushBusybox(reg);
  await assert.rejects(pull(d, img.reference), grpcError(code.DATA_LOSS, new RegExp(`layer 1 of 1 \\(${img.layers[0]!.digest}\\).*has digest sha256:[0-9a-f]{64}, not ${img.layers[0]!.digest}`)));
  await assertNothingStored(d);
  assert.deepEqual((await onDisk(d)).partials, [], "a partial with wrong bytes is not kept for resume");
});

/** Pushes config + manifest for layers already pushed, with a manifest edited by `edit`. */
async function pushEdited(reg: FixtureRegistry, repo: string, layers: { blob: Buffer; tar: Buffer; mediaType: string }[], edit: (m: Record<string, unknown>) => void, diffIds?: string[]): Promise<string> {
  const descs = [];
  for (const l of layers) descs.push({ mediaType: l.mediaType, digest: await pushBlob(reg, repo, l.blob), size: l.blob.length });
  const p = hostPlatform();
  const config = Buffer.from(JSON.stringify({ architecture: p.architecture, os: p.os, config: {}, rootfs: { type: "layers", diff_ids: diffIds ?? layers.map((l) => sha256(l.tar)) } }));
  const configDigest = await pushBlob(reg, repo, config);
  const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: configDigest, size: config.length }, layers: descs };
  edit(manifest);
  await pushManifest(reg, repo, "v1", MT.ociManifest, Buffer.from(JSON.stringify(manifest)));
  return `${reg.host}/${repo}:v1`;
}

test("hostile or broken content is refused with a clear error and nothing is stored", async (t) => {
  // A proxy that can swap a manifest's bytes (and its digest header) for the "bad manifest" cases.
  const swaps = new Map<string, Buffer>();
  const { reg, d } = await proxied(t, async ({ req, forward, send }) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    const body = swaps.get(path);
    if (!body || req.method !== "GET") return false;
    const raw = await forward();
    send({ status: 200, headers: { ...raw.headers, "docker-content-digest": sha256(body), "content-type": MT.ociManifest }, body });
    return true;
  });
  const tar = await buildTar([{ type: "file", path: "hello", content: "hello\n" }]);
  const gz = { blob: gzipSync(tar), tar, mediaType: MT.ociLayerGzip };

  const truncated = await pushEdited(reg, "truncated", [gz], (m) => {
    (m.layers as { size: number }[])[0]!.size += 100;
  });
  await assert.rejects(pull(d, truncated), grpcError(code.DATA_LOSS, /the registry says it is \d+ bytes, the manifest says \d+/));
  await assertNothingStored(d);

  const badGzip = await pushEdited(reg, "badgzip", [{ blob: Buffer.from("this is not gzip at all"), tar, mediaType: MT.ociLayerGzip }], () => {});
  await assert.rejects(pull(d, badGzip), grpcError(code.INVALID_ARGUMENT, /layer 1 of 1 \(sha256:[0-9a-f]+\) of .*badgzip is not valid gzip data: incorrect header check/));
  await assertNothingStored(d);

  const wrongDiffId = await pushEdited(reg, "diffid", [gz], () => {}, [sha256("something else")]);
  await assert.rejects(pull(d, wrongDiffId), grpcError(code.DATA_LOSS, /has DiffID sha256:[0-9a-f]+ but the image config says/));
  await assertNothingStored(d);

  const traversal = await buildTar([{ type: "file", path: "../berth-escaped", content: "x" }]);
  const hostile = await pushEdited(reg, "hostile", [{ blob: gzipSync(traversal), tar: traversal, mediaType: MT.ociLayerGzip }], () => {});
  await assert.rejects(pull(d, hostile), (e: { code: number; details: string }) => e.code === code.INVALID_ARGUMENT && /berth-escaped/.test(e.details));
  await assertNothingStored(d);

  // A symlinked parent pointing at the host's / resolves inside the layer, never on the host.
  const escape = await buildTar([{ type: "symlink", path: "evil", target: "/" }, { type: "file", path: "evil/etc/berth-escaped-e2e", content: "x" }]);
  const contained = await pushEdited(reg, "contained", [{ blob: gzipSync(escape), tar: escape, mediaType: MT.ociLayerGzip }], () => {});
  await pull(d, contained);
  assert.equal(existsSync("/etc/berth-escaped-e2e"), false, "nothing written on the host");
  const [layerDir] = (await onDisk(d)).layers;
  assert.equal(readFileSync(join(d.root, "layers", layerDir!, "diff", "etc", "berth-escaped-e2e"), "utf8"), "x");
  await remove(d, contained);
  await assertNothingStored(d);

  const img = await pushBusybox(reg, "swap", "v1");
  const manifestPath = `/v2/swap/manifests/v1`;
  swaps.set(manifestPath, Buffer.from("{ not json"));
  await assert.rejects(pull(d, img.reference), grpcError(code.INVALID_ARGUMENT, /manifest .*swap.*(JSON|json)/));
  swaps.set(manifestPath, Buffer.from(JSON.stringify({ schemaVersion: 1, name: "swap", tag: "v1", fsLayers: [] })));
  await assert.rejects(pull(d, img.reference), grpcError(code.INVALID_ARGUMENT, /schema 1/));
  const m = JSON.parse(img.manifest.toString()) as { layers: { mediaType: string }[] };
  m.layers[0]!.mediaType = "application/vnd.example.unknown.layer";
  swaps.set(manifestPath, Buffer.from(JSON.stringify(m)));
  await assert.rejects(pull(d, img.reference), grpcError(code.INVALID_ARGUMENT, /unknown layer media type "application\/vnd\.example\.unknown\.layer"/));
  await assertNothingStored(d);
});

test("layers download in parallel up to registry.max_concurrent_downloads", async (t) => {
  const layers = () => [1, 2, 3, 4].map((i) => ({ entries: [{ type: "file" as const, path: `f${i}`, content: randomBytes(100_000 + i) }] }));
  for (const limit of [3, 1]) {
    let active = 0;
    let peak = 0;
    let img: PushedImage | undefined;
    const { reg, d } = await proxied(t, async ({ req, forward, send }) => {
      if (!img?.layers.some((l) => isBlob(req.url, l.digest))) return false;
      active++;
      peak = Math.max(peak, active);
      const raw = await forward();
      await new Promise((r) => setTimeout(r, 200));
      active--;
      send(raw);
      return true;
    }, `max_concurrent_downloads = ${limit}`);
    img = await pushImage(reg, { repo: "four", tag: "v1", layers: layers() });
    assert.equal(await pull(d, img.reference), img.configDigest);
    assert.equal(peak, limit, `at most ${limit} layer downloads at once, and that many are used`);
  }
});
