// Hostile and flaky registries, through a proxy in front of a real one: wrong manifests, cut
// connections and Range resume, ignored Range, stalls, 5xx/429 retries, redirects, oversize.
import { test } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { BerthError, Code } from "../../../../src/errors.js";
import { pushBusybox, pushImage } from "../../../fixtures/images.js";
import { startProxy, type ProxyHandler } from "../../../fixtures/proxy.js";
import type { FixtureRegistry } from "../../../fixtures/registry.js";
import type { RegistryClientOptions } from "../../../../src/images/registry/client.js";
import { client, readAll, registry, sha256, tempDir, writeToml, type After } from "./setup.js";

const isCode = (code: Code, re?: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof BerthError, `expected a BerthError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (re) assert.match(err.message, re);
  return true;
};

/** A client whose only endpoint for the registry's host is a proxy with `handler`. */
async function proxied(t: After, reg: FixtureRegistry, handler: ProxyHandler, opts: RegistryClientOptions = {}) {
  const proxy = await startProxy(reg, handler);
  t.after(() => proxy.stop());
  const dir = await tempDir(t);
  await writeToml(dir, reg.host, `server = "${proxy.url}"\n`);
  return { proxy, c: client(t, { configPath: dir }, opts) };
}

const isBlob = (url: string | undefined, digest: string): boolean => (url ?? "").includes(`/blobs/${digest}`);

test("a pinned digest whose bytes differ is refused (DATA_LOSS); so is a tag whose digest header lies", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const other = await pushImage(reg, { repo: "other", tag: "x", layers: [] });
  const { c } = await proxied(t, reg, async ({ req, send, forward }) => {
    if (req.url?.includes(`/manifests/${img.manifestDigest}`)) {
      const raw = await forward();
      send({ ...raw, body: other.manifest, headers: { ...raw.headers, "docker-content-digest": img.manifestDigest } });
      return true;
    }
    if (req.url?.endsWith("/manifests/latest")) {
      const raw = await forward();
      send({ ...raw, headers: { ...raw.headers, "docker-content-digest": other.manifestDigest } });
      return true;
    }
  });
  await assert.rejects(c.resolve(`${reg.host}/busybox@${img.manifestDigest}`), isCode(Code.DATA_LOSS, new RegExp(`not the requested ${img.manifestDigest}`)));
  await assert.rejects(c.resolve(img.reference), isCode(Code.DATA_LOSS, /registry says/));
});

test("a mirror serving wrong bytes is passed over for the upstream", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const other = await pushImage(reg, { repo: "other", tag: "x", layers: [] });
  const liar = await startProxy(reg, async ({ req, send, forward }) => {
    if (!req.url?.includes("/manifests/")) return false;
    send({ ...(await forward()), body: other.manifest });
    return true;
  });
  t.after(() => liar.stop());
  const dir = await tempDir(t);
  await writeToml(dir, reg.host, `server = "${reg.url}"\n[host."${liar.url}"]\n`);
  const r = await client(t, { configPath: dir }).resolve(`${reg.host}/busybox@${img.manifestDigest}`);
  assert.equal(r.digest, img.manifestDigest);
  assert.equal(r.endpoint.url, `${reg.url}/v2`);
});

test("Range resume: a connection cut mid-blob continues from the offset reached", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const layer = img.layers[0];
  assert.ok(layer);
  const half = Math.floor(layer.size / 2);
  const { c, proxy } = await proxied(t, reg, async ({ req, res, forward, seen }) => {
    if (!isBlob(req.url, layer.digest) || seen > 0) return false;
    const raw = await forward();
    res.writeHead(200, { "content-length": String(raw.body.length), "content-type": "application/octet-stream" });
    res.write(raw.body.subarray(0, half), () => setTimeout(() => res.socket?.destroy(), 20));
    return true;
  });
  const name = `${reg.host}/busybox`;
  const first = await c.fetchBlob(name, layer.digest);
  assert.equal(first.offset, 0);
  const got: Buffer[] = [];
  let received = 0;
  await assert.rejects((async () => {
    for await (const chunk of first.stream) {
      got.push(chunk as Buffer);
      received += (chunk as Buffer).length;
    }
  })(), isCode(Code.UNAVAILABLE, /closed before the body was complete/));
  assert.ok(received > 0 && received < layer.size, `received ${received} of ${layer.size}`);
  const rest = await c.fetchBlob(name, layer.digest, { offset: received });
  assert.equal(rest.offset, received);
  assert.equal(rest.size, layer.size);
  got.push(await readAll(rest.stream));
  assert.equal(sha256(Buffer.concat(got)), layer.digest);
  assert.equal(proxy.requests.filter((q) => isBlob(q.url, layer.digest)).at(-1)?.headers.range, `bytes=${received}-`);
});

test("a server that ignores Range sends the whole blob and fetchBlob says offset 0", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const layer = img.layers[0];
  assert.ok(layer);
  const { c } = await proxied(t, reg, async ({ req, send, forward }) => {
    if (!isBlob(req.url, layer.digest)) return false;
    const { range: _r, ...headers } = req.headers as IncomingHttpHeaders & { range?: string };
    send(await forward(headers));
    return true;
  });
  const b = await c.fetchBlob(`${reg.host}/busybox`, layer.digest, { offset: 4096 });
  assert.equal(b.offset, 0);
  assert.equal(sha256(await readAll(b.stream)), layer.digest);
});

test("stall timeout: a body that stops arriving fails with DEADLINE_EXCEEDED naming the blob", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const layer = img.layers[0];
  assert.ok(layer);
  const { c } = await proxied(t, reg, async ({ req, res, forward }) => {
    if (!isBlob(req.url, layer.digest)) return false;
    const raw = await forward();
    res.writeHead(200, { "content-length": String(raw.body.length) });
    res.write(raw.body.subarray(0, 1000)); // then nothing, connection kept open
    return true;
  }, { stallTimeoutMs: 300 });
  const b = await c.fetchBlob(`${reg.host}/busybox`, layer.digest);
  const started = Date.now();
  await assert.rejects(readAll(b.stream), isCode(Code.DEADLINE_EXCEEDED, new RegExp(`blob ${layer.digest}.*no data from the registry for 300 ms`)));
  assert.ok(Date.now() - started < 3000);
});

test("a manifest dripped a byte at a time, each inside the stall timeout, fails by the document deadline", async (t) => {
  const reg = await registry(t);
  await pushBusybox(reg);
  const { c } = await proxied(t, reg, async ({ req, res, forward }) => {
    if (!(req.url ?? "").includes("/manifests/")) return false;
    const raw = await forward();
    res.writeHead(200, { "content-type": String(raw.headers["content-type"]), "content-length": String(raw.body.length) });
    let i = 0;
    const drip = setInterval(() => {
      if (i >= raw.body.length || res.destroyed) return clearInterval(drip);
      res.write(raw.body.subarray(i, ++i));
    }, 50);
    res.on("close", () => clearInterval(drip));
    return true;
  }, { stallTimeoutMs: 1000, documentDeadlineMs: 600 });
  const started = Date.now();
  await assert.rejects(c.resolve(`${reg.host}/busybox:latest`), isCode(Code.DEADLINE_EXCEEDED, /manifest .*did not arrive within 1 s .*sending too slowly/));
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test("an image config dripped a byte at a time, each inside the stall timeout, fails by the document deadline", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const { c } = await proxied(t, reg, async ({ req, res, forward }) => {
    if (!isBlob(req.url, img.configDigest)) return false;
    const raw = await forward();
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(raw.body.length) });
    let i = 0;
    const drip = setInterval(() => {
      if (i >= raw.body.length || res.destroyed) return clearInterval(drip);
      res.write(raw.body.subarray(i, ++i));
    }, 50);
    res.on("close", () => clearInterval(drip));
    return true;
  }, { stallTimeoutMs: 1000, documentDeadlineMs: 600 });
  await assert.rejects(c.fetchBlobBytes(`${reg.host}/busybox`, img.configDigest, 1 << 20),
    isCode(Code.DEADLINE_EXCEEDED, new RegExp(`blob ${img.configDigest} of .*busybox did not arrive within 600 ms \\(\\d+ bytes so far\\).*registry.document_deadline`)));
});

test("a slow reader is not a stall: backpressure stops the clock", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const layer = img.layers[0];
  assert.ok(layer);
  const c = client(t, { configPath: await (async () => {
    const dir = await tempDir(t);
    await writeToml(dir, reg.host, `server = "${reg.url}"\n`);
    return dir;
  })() }, { stallTimeoutMs: 200 });
  const b = await c.fetchBlob(`${reg.host}/busybox`, layer.digest);
  await new Promise((r) => setTimeout(r, 500)); // nobody reads for longer than the stall timeout
  assert.equal(sha256(await readAll(b.stream)), layer.digest);
});

test("no response headers within the timeout: retried, then DEADLINE_EXCEEDED", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const { c, proxy } = await proxied(t, reg, ({ req }) => (req.url ?? "").includes("/manifests/"), { stallTimeoutMs: 200, retries: 1 });
  await assert.rejects(c.resolve(img.reference), isCode(Code.DEADLINE_EXCEEDED, /sent no response for 200 ms/));
  assert.equal(proxy.requests.filter((q) => q.url.includes("/manifests/")).length, 2);
});

test("retries: 503 and 429 are retried with backoff, up to the bound", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const flaky = await proxied(t, reg, ({ req, send, seen }) => {
    if (!(req.url ?? "").includes("/manifests/") || seen >= 2) return false;
    send({ status: seen === 0 ? 503 : 429, headers: seen === 1 ? { "retry-after": "1" } : {}, body: Buffer.from("{}") });
    return true;
  }, { retries: 3, backoffMs: 10, maxBackoffMs: 50 });
  assert.equal((await flaky.c.resolve(img.reference)).digest, img.manifestDigest);
  assert.equal(flaky.proxy.requests.filter((q) => q.url.includes("/manifests/")).length, 3);

  const down = await proxied(t, reg, ({ send }) => {
    send({ status: 503, headers: { "content-type": "application/json" }, body: Buffer.from('{"errors":[{"code":"UNAVAILABLE","message":"try\\u0007later"}]}') });
    return true;
  }, { retries: 2, backoffMs: 10 });
  await assert.rejects(down.c.resolve(img.reference), isCode(Code.UNAVAILABLE, /HTTP 503: UNAVAILABLE try later/));
  assert.equal(down.proxy.requests.length, 3, "one try and two retries");
});

test("retries leave no abort listener behind on the pull's signal", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const flaky = await proxied(t, reg, ({ req, send, seen }) => {
    if (!(req.url ?? "").includes("/manifests/") || seen >= 3) return false;
    send({ status: 503, headers: {}, body: Buffer.from("{}") });
    return true;
  }, { retries: 3, backoffMs: 5, maxBackoffMs: 10 });
  const ac = new AbortController();
  assert.equal((await flaky.c.resolve(img.reference, { signal: ac.signal })).digest, img.manifestDigest);
  assert.equal(flaky.proxy.requests.filter((q) => q.url.includes("/manifests/")).length, 4, "three retries");
  assert.equal(getEventListeners(ac.signal, "abort").length, 0);
});

test("a blob redirect to another host gets no Authorization header", async (t) => {
  const reg = await registry(t, { basicAuth: { user: "u", password: "p" } });
  const img = await pushBusybox(reg);
  const layer = img.layers[0];
  assert.ok(layer);
  const seen: IncomingHttpHeaders[] = [];
  const store = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { "content-length": String(layer.blob.length) });
    res.end(layer.blob);
  });
  await new Promise<void>((r) => store.listen(0, "127.0.0.1", () => r()));
  t.after(() => new Promise<void>((r) => { store.closeAllConnections(); store.close(() => r()); }));
  const storeUrl = `http://127.0.0.1:${(store.address() as AddressInfo).port}/bucket/blob?sig=1`;
  const { c, proxy } = await proxied(t, reg, ({ req, send }) => {
    // The registry answers 401 first (passed through); the authorized retry is redirected.
    if (!isBlob(req.url, layer.digest) || !req.headers.authorization) return false;
    send({ status: 307, headers: { location: storeUrl }, body: Buffer.alloc(0) });
    return true;
  });
  const b = await c.fetchBlob(`${reg.host}/busybox`, layer.digest, { auth: { username: "u", password: "p" } });
  assert.equal(sha256(await readAll(b.stream)), layer.digest);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.authorization, undefined);
  assert.ok(proxy.requests.some((q) => isBlob(q.url, layer.digest) && q.headers.authorization?.startsWith("Basic ")));
});

test("a blob redirect to another host drops an Authorization header set in hosts.toml, whatever its case", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const layer = img.layers[0];
  assert.ok(layer);
  const seen: IncomingHttpHeaders[] = [];
  const store = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { "content-length": String(layer.blob.length) });
    res.end(layer.blob);
  });
  await new Promise<void>((r) => store.listen(0, "127.0.0.1", () => r()));
  t.after(() => new Promise<void>((r) => { store.closeAllConnections(); store.close(() => r()); }));
  const storeUrl = `http://127.0.0.1:${(store.address() as AddressInfo).port}/bucket/blob?sig=1`;
  const proxy = await startProxy(reg, ({ req, send }) => {
    if (!isBlob(req.url, layer.digest)) return false;
    send({ status: 307, headers: { location: storeUrl }, body: Buffer.alloc(0) });
    return true;
  });
  t.after(() => proxy.stop());
  const dir = await tempDir(t);
  await writeToml(dir, reg.host, `server = "${proxy.url}"\n[header]\nAuthorization = "Basic c2VjcmV0OnNlY3JldA=="\nCookie = "session=secret"\nX-Mirror = "kept"\n`);
  const c = client(t, { configPath: dir });
  const b = await c.fetchBlob(`${reg.host}/busybox`, layer.digest);
  assert.equal(sha256(await readAll(b.stream)), layer.digest);
  assert.ok(proxy.requests.some((q) => isBlob(q.url, layer.digest) && q.headers.authorization === "Basic c2VjcmV0OnNlY3JldA=="), "the registry itself gets the header");
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.authorization, undefined, "no credentials for the other host");
  assert.equal(seen[0]?.cookie, undefined, "no cookie for the other host");
  assert.equal(seen[0]?.["x-mirror"], "kept");
});

test("an oversized manifest is refused before it is parsed", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const { c } = await proxied(t, reg, ({ req, send }) => {
    if (!(req.url ?? "").includes("/manifests/")) return false;
    send({ status: 200, headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" }, body: Buffer.alloc(5 * 1024 * 1024, 32) });
    return true;
  });
  await assert.rejects(c.resolve(img.reference), isCode(Code.INVALID_ARGUMENT, /at most 4194304/));
});
