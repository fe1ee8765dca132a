// Mirror fallback with real registries: hosts.toml mirrors that lack or hold the image, dead
// mirrors, credentials kept from mirrors, registries.conf mirrors/blocked/aliases, live edits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile, utimes } from "node:fs/promises";
import { join } from "node:path";
import { BerthError, Code } from "../../../../src/errors.js";
import { pushBusybox } from "../../../fixtures/images.js";
import { freePort } from "../../../fixtures/registry.js";
import { startProxy } from "../../../fixtures/proxy.js";
import { client, readAll, registry, sha256, tempDir, writeToml } from "./setup.js";

test("hosts.toml mirror without the image: falls back to the upstream", async (t) => {
  const upstream = await registry(t);
  const mirror = await registry(t);
  const img = await pushBusybox(upstream);
  const dir = await tempDir(t);
  await writeToml(dir, upstream.host, `server = "${upstream.url}"\n[host."${mirror.url}"]\n  capabilities = ["pull", "resolve"]\n`);
  const c = client(t, { configPath: dir });
  const r = await c.resolve(img.reference);
  assert.equal(r.digest, img.manifestDigest);
  assert.equal(r.endpoint.url, `${upstream.url}/v2`);
  const b = await c.fetchBlob(r.name, img.layers[0]?.digest ?? "");
  assert.equal(b.endpoint.url, `${upstream.url}/v2`);
  assert.equal(sha256(await readAll(b.stream)), img.layers[0]?.digest);
});

test("hosts.toml mirror with the image serves it first; a dead mirror is skipped, not retried", async (t) => {
  const upstream = await registry(t);
  const mirror = await registry(t);
  const img = await pushBusybox(upstream);
  await pushBusybox(mirror);
  const dead = await freePort();
  const dir = await tempDir(t);
  await writeToml(dir, upstream.host, [
    `server = "${upstream.url}"`,
    `[host."http://127.0.0.1:${dead}"]`, `  capabilities = ["pull", "resolve"]`,
    `[host."${mirror.url}"]`, `  capabilities = ["pull", "resolve"]`, "",
  ].join("\n"));
  // A retry of the refused mirror would wait ten minutes: resolve answering at all proves that a
  // connection refused on a mirror is not retried when another endpoint waits (no clock read).
  const c = client(t, { configPath: dir }, { retries: 3, backoffMs: 600_000, maxBackoffMs: 600_000 });
  const r = await c.resolve(img.reference);
  assert.equal(r.endpoint.url, `${mirror.url}/v2`);
  const b = await c.fetchBlob(r.name, img.layers[0]?.digest ?? "");
  assert.equal(b.endpoint.url, `${mirror.url}/v2`);
  await readAll(b.stream);
});

test("a pull-only mirror serves blobs and digests but not tags", async (t) => {
  const upstream = await registry(t);
  const mirror = await registry(t);
  const img = await pushBusybox(upstream);
  await pushBusybox(mirror);
  const dir = await tempDir(t);
  await writeToml(dir, upstream.host, `server = "${upstream.url}"\n[host."${mirror.url}"]\n  capabilities = ["pull"]\n`);
  const c = client(t, { configPath: dir });
  assert.equal((await c.resolve(img.reference)).endpoint.url, `${upstream.url}/v2`);
  assert.equal((await c.resolve(`${upstream.host}/busybox@${img.manifestDigest}`)).endpoint.url, `${mirror.url}/v2`);
  const b = await c.fetchBlob(`${upstream.host}/busybox`, img.configDigest);
  assert.equal(b.endpoint.url, `${mirror.url}/v2`);
  await readAll(b.stream);
});

test("credentials go to the upstream only, never to a mirror", async (t) => {
  const upstream = await registry(t, { basicAuth: { user: "u", password: "p" } });
  const mirrorReg = await registry(t, { basicAuth: { user: "u", password: "p" } });
  const img = await pushBusybox(upstream);
  await pushBusybox(mirrorReg);
  const spy = await startProxy(mirrorReg);
  t.after(() => spy.stop());
  const dir = await tempDir(t);
  await writeToml(dir, upstream.host, `server = "${upstream.url}"\n[host."${spy.url}"]\n`);
  const c = client(t, { configPath: dir });
  const r = await c.resolve(img.reference, { auth: { username: "u", password: "p" } });
  assert.equal(r.endpoint.url, `${upstream.url}/v2`, "the mirror refused the anonymous request; the upstream served it");
  assert.ok(spy.requests.length > 0);
  assert.ok(spy.requests.every((q) => q.headers.authorization === undefined));
});

test("registries.conf mirror with a path prefix, pull-from-mirror, blocked registries and aliases", async (t) => {
  const upstream = await registry(t);
  const mirror = await registry(t);
  const img = await pushBusybox(upstream);
  const mirrored = await pushBusybox(mirror, "cache/busybox");
  assert.equal(mirrored.manifestDigest, img.manifestDigest, "the same image on both");
  const dir = await tempDir(t);
  const conf = join(dir, "registries.conf");
  await writeFile(conf, `
[[registry]]
location = "${upstream.host}"
insecure = true
[[registry.mirror]]
location = "${mirror.host}/cache"
insecure = true

[[registry]]
prefix = "${upstream.host}/secret"
location = "${upstream.host}/secret"
blocked = true

[aliases]
"mybox" = "${upstream.host}/busybox"
`);
  const c = client(t, { registriesConf: conf });
  const r = await c.resolve(img.reference);
  assert.equal(r.endpoint.host, mirror.host);
  assert.equal(r.endpoint.repository, "cache/busybox");
  assert.equal(r.name, `${upstream.host}/busybox`);
  const b = await c.fetchBlob(r.name, img.layers[0]?.digest ?? "");
  assert.equal(b.endpoint.repository, "cache/busybox");
  assert.equal(sha256(await readAll(b.stream)), img.layers[0]?.digest);
  await assert.rejects(c.resolve(`${upstream.host}/secret/app:1`), (e: unknown) => e instanceof BerthError && e.code === Code.FAILED_PRECONDITION && /blocked by/.test(e.message));
  const a = await c.resolve("mybox");
  assert.equal(a.name, `${upstream.host}/busybox`);
  assert.equal(a.digest, img.manifestDigest);

  await writeFile(conf, `
[[registry]]
location = "${upstream.host}"
insecure = true
[[registry.mirror]]
location = "${mirror.host}/cache"
insecure = true
pull-from-mirror = "digest-only"
`);
  await utimes(conf, new Date(), new Date(Date.now() + 5000));
  assert.equal((await c.resolve(img.reference)).endpoint.host, upstream.host, "tags skip a digest-only mirror");
  assert.equal((await c.resolve(`${upstream.host}/busybox@${img.manifestDigest}`)).endpoint.host, mirror.host);
});

test("hosts.toml edits apply to the next pull without a restart", async (t) => {
  const upstream = await registry(t);
  const mirror = await registry(t);
  const img = await pushBusybox(upstream);
  await pushBusybox(mirror);
  const dir = await tempDir(t);
  await writeToml(dir, upstream.host, `server = "${upstream.url}"\n`);
  const c = client(t, { configPath: dir });
  assert.equal((await c.resolve(img.reference)).endpoint.url, `${upstream.url}/v2`);
  await writeToml(dir, upstream.host, `server = "${upstream.url}"\n[host."${mirror.url}"]\n`);
  await utimes(join(dir, upstream.host, "hosts.toml"), new Date(), new Date(Date.now() + 5000));
  assert.equal((await c.resolve(img.reference)).endpoint.url, `${mirror.url}/v2`);
});
