// Pulls of one image from a hostile and an honest registry at once: a shared download or config
// fetch must fail over to the honest pull's registry, a poisoned .partial must not fail the next
// pull, and an image config dripped byte by byte must hit registry.document_deadline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { status as code } from "@grpc/grpc-js";
import { pushImage, type PushedImage } from "../fixtures/images.js";
import type { Compression } from "../fixtures/layers.js";
import { startProxy, type FixtureProxy, type ProxyHandler } from "../fixtures/proxy.js";
import type { Daemon } from "../fixtures/daemon.js";
import { daemon, grpcError, hexOf, onDisk, pull, registry, tempDir, writeHosts, type T } from "./images-kit.js";

interface TwoRegistries {
  d: Daemon;
  /** In front of the real registry, bending answers with the test's handler. */
  hostile: FixtureProxy;
  /** In front of the same registry, passing everything through (to see the requests). */
  honest: FixtureProxy;
  img: PushedImage;
  /** The image as the hostile registry lists it. */
  hostileRef: string;
  /** The same image at the honest registry. */
  honestRef: string;
}

/**
 * One real registry holding an image with one layer of random bytes (uncompressed by default,
 * so wrong bytes pass the tar reader and only the digest can tell), under two registry names.
 */
async function twoRegistries(t: T, handler: (img: PushedImage) => ProxyHandler, toml = "", compression: Compression = "none"): Promise<TwoRegistries> {
  const reg = await registry(t);
  const img = await pushImage(reg, {
    repo: "big", tag: "v1", compression,
    layers: [{ entries: [{ type: "file", path: "blob.bin", content: randomBytes(2 << 20) }] }],
  });
  const bend = handler(img);
  const hostile = await startProxy(reg, (args) => bend(args));
  t.after(() => hostile.stop());
  const honest = await startProxy(reg);
  t.after(() => honest.stop());
  const certsD = await tempDir(t, "berth-certsd-");
  await writeHosts(certsD, hostile.host, `server = "${hostile.url}"\n`);
  await writeHosts(certsD, reg.host, `server = "${honest.url}"\n`);
  const d = await daemon(t, certsD, toml);
  return { d, hostile, honest, img, hostileRef: `${hostile.host}/big:v1`, honestRef: img.reference };
}

const isBlob = (url: string | undefined, digest: string): boolean => (url ?? "").includes(`/blobs/${digest}`);
const blobGets = (p: FixtureProxy, digest: string) => p.requests.filter((r) => r.method === "GET" && isBlob(r.url, digest));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("a pull joining a download that the first pull's registry stalls continues from its own registry", async (t) => {
  // The stall timeout is an hour and each pull gets 60 s: only a hand-over can make them pass.
  const { d, hostile, honest, img, hostileRef, honestRef } = await twoRegistries(t, (img) => async ({ req, res, forward }) => {
    if (!isBlob(req.url, img.layers[0]!.digest)) return false;
    const raw = await forward();
    res.writeHead(200, { "content-length": String(raw.body.length), "content-type": "application/octet-stream" });
    res.write(raw.body.subarray(0, raw.body.length >> 2)); // then nothing, the connection open
    return true;
  }, `stall_timeout = "1h"`);
  const layer = img.layers[0]!.digest;
  const first = pull(d, hostileRef);
  first.catch(() => {}); // awaited below
  await until("the hostile registry to be asked for the layer", () => blobGets(hostile, layer).length > 0);
  assert.equal(await pull(d, honestRef), img.configDigest);
  assert.equal(await first, img.configDigest, "the first pull gets the verified layer too");
  const gets = blobGets(honest, layer);
  assert.equal(gets.length, 1, "one GET at the honest registry");
  const m = /^bytes=(\d+)-$/.exec(String(gets[0]!.headers.range));
  assert.ok(m && Number(m[1]) > 0, `the honest registry was asked for the rest only: ${gets[0]!.headers.range}`);
  assert.deepEqual((await onDisk(d)).partials, []);
});

test("a pull joining a download whose first registry sends wrong bytes gets the blob from its own registry, from byte 0", async (t) => {
  let joined = (): boolean => false;
  const { d, hostile, honest, img, hostileRef, honestRef } = await twoRegistries(t, (img) => async ({ req, res, forward }) => {
    if (!isBlob(req.url, img.layers[0]!.digest)) return false;
    const raw = await forward();
    const body = Buffer.from(raw.body);
    const half = body.length >> 1;
    body[half >> 1] = (body[half >> 1] ?? 0) ^ 0xff; // inside the file's random bytes: only the digest can tell
    res.writeHead(200, { "content-length": String(body.length), "content-type": "application/octet-stream" });
    res.write(body.subarray(0, half));
    await until("the honest pull to join the download", () => joined());
    res.end(body.subarray(half));
    return true;
  });
  joined = () => d.logs().includes("joined a running download with this pull's own source");
  const layer = img.layers[0]!.digest;
  const first = pull(d, hostileRef);
  first.catch(() => {}); // awaited below
  await until("the hostile registry to be asked for the layer", () => blobGets(hostile, layer).length > 0);
  assert.equal(await pull(d, honestRef), img.configDigest);
  assert.equal(await first, img.configDigest, "the first pull, which read the wrong bytes, applied the layer again");
  const gets = blobGets(honest, layer);
  assert.equal(gets.length, 1);
  assert.equal(gets[0]!.headers.range, undefined, "the wrong bytes were thrown away: the honest registry sent the whole blob");
  assert.deepEqual((await onDisk(d)).partials, []);
});

test("a .partial poisoned by a hostile registry is downloaded again from byte 0 by the next pull, which succeeds", async (t) => {
  const { d, hostile, honest, img, hostileRef, honestRef } = await twoRegistries(t, (img) => async ({ req, res, forward, seen }) => {
    if (!isBlob(req.url, img.layers[0]!.digest)) return false;
    if (seen > 0) {
      res.writeHead(503);
      res.end();
      return true;
    }
    const raw = await forward();
    const body = Buffer.from(raw.body);
    const half = body.length >> 1;
    body[half >> 1] = (body[half >> 1] ?? 0) ^ 0xff; // a wrong prefix, then the connection cut
    res.writeHead(200, { "content-length": String(body.length), "content-type": "application/octet-stream" });
    res.write(body.subarray(0, half), () => setTimeout(() => res.socket?.destroy(), 50));
    return true;
  });
  const layer = img.layers[0]!.digest;
  await assert.rejects(pull(d, hostileRef), grpcError(code.UNAVAILABLE, new RegExp(`layer 1 of 1 \\(${layer}\\)`)));
  assert.ok(blobGets(hostile, layer).length >= 2, "the hostile registry was asked to resume");
  assert.deepEqual((await onDisk(d)).partials, [`sha256-${hexOf(layer)}.partial`], "the poisoned prefix is kept for a resume");

  assert.equal(await pull(d, honestRef), img.configDigest, "the honest pull succeeds on its first try");
  const gets = blobGets(honest, layer);
  assert.equal(gets.length, 2, "a resume, then the whole blob");
  assert.match(String(gets[0]!.headers.range), /^bytes=[1-9]\d*-$/);
  assert.equal(gets[1]!.headers.range, undefined);
  assert.deepEqual((await onDisk(d)).partials, []);
});

test("a gzip layer resumed from a poisoned .partial: the apply that fails on the wrong bytes waits for the download to start over, then succeeds", async (t) => {
  const { d, hostile, honest, img, hostileRef, honestRef } = await twoRegistries(t, (img) => async ({ req, res, forward, seen }) => {
    if (!isBlob(req.url, img.layers[0]!.digest)) return false;
    if (seen > 0) {
      res.writeHead(503);
      res.end();
      return true;
    }
    const raw = await forward();
    const body = Buffer.from(raw.body);
    body[1000] = (body[1000] ?? 0) ^ 0xff; // corrupt deflate data: the decompressor fails early
    res.writeHead(200, { "content-length": String(body.length), "content-type": "application/octet-stream" });
    res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 50));
    return true;
  }, "", "gzip");
  const layer = img.layers[0]!.digest;
  await assert.rejects(pull(d, hostileRef));
  assert.ok(blobGets(hostile, layer).length >= 1);
  assert.deepEqual((await onDisk(d)).partials, [`sha256-${hexOf(layer)}.partial`], "the poisoned prefix is kept for a resume");

  assert.equal(await pull(d, honestRef), img.configDigest, "the honest pull succeeds on its first try");
  const gets = blobGets(honest, layer);
  assert.equal(gets.length, 2, "a resume, then the whole blob");
  assert.match(String(gets[0]!.headers.range), /^bytes=[1-9]\d*-$/);
  assert.equal(gets[1]!.headers.range, undefined);
});

test("a pull joining an image config fetch that the first pull's registry stalls fetches the config itself", async (t) => {
  const { d, hostile, img, hostileRef, honestRef } = await twoRegistries(t, (img) => ({ req, res }) => {
    if (!isBlob(req.url, img.configDigest)) return false;
    res.writeHead(200, { "content-length": String(img.config.length), "content-type": "application/octet-stream" });
    res.write(img.config.subarray(0, 1)); // then nothing
    return true;
  }, `stall_timeout = "1h"\ndocument_deadline = "1h"`);
  const first = pull(d, hostileRef);
  first.catch(() => {}); // awaited below
  await until("the hostile registry to be asked for the config", () => blobGets(hostile, img.configDigest).length > 0);
  assert.equal(await pull(d, honestRef), img.configDigest);
  await hostile.stop(); // ends the first pull's stalled fetch
  await assert.rejects(first);
});

test("an image config dripped a byte at a time fails by registry.document_deadline, naming the config", async (t) => {
  const { d, hostileRef, img } = await twoRegistries(t, (img) => ({ req, res }) => {
    if (!isBlob(req.url, img.configDigest)) return false;
    res.writeHead(200, { "content-length": String(img.config.length), "content-type": "application/octet-stream" });
    let i = 0;
    const drip = setInterval(() => {
      if (i >= img.config.length || res.destroyed) return clearInterval(drip);
      res.write(img.config.subarray(i, ++i));
    }, 100);
    res.on("close", () => clearInterval(drip));
    return true;
  }, `stall_timeout = "1h"\ndocument_deadline = "1s"`);
  await assert.rejects(pull(d, hostileRef), grpcError(code.DEADLINE_EXCEEDED,
    new RegExp(`blob ${img.configDigest} of .*big did not arrive within 1 s .*registry.document_deadline`)));
});
