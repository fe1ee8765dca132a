// PullImage over every registry transport and auth flow Berth supports, configured the way an
// operator would (hosts.toml in registry.config_path): TLS with a private CA, basic auth and
// bearer tokens from CRI AuthConfig, and hosts.toml mirrors with fallback to the upstream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { status as code } from "@grpc/grpc-js";
import { pushBusybox } from "../fixtures/images.js";
import { freePort, writeHostsToml } from "../fixtures/registry.js";
import { startProxy } from "../fixtures/proxy.js";
import { daemon, grpcError, list, pull, registry, remove, setup, tempDir, writeHosts } from "./images-kit.js";

test("TLS: a registry signed by a private CA, trusted through hosts.toml `ca`; without it, a clear TLS error", async (t) => {
  const { reg, d, certsD } = await setup(t, { tls: true });
  const img = await pushBusybox(reg);
  assert.equal(await pull(d, img.reference), img.configDigest);
  await remove(d, img.reference);
  await writeHosts(certsD, reg.host, `server = "${reg.url}"\n`); // the same server, CA forgotten
  await assert.rejects(pull(d, img.reference), grpcError(code.UNAVAILABLE, /TLS verification of 127\.0\.0\.1:\d+ failed/));
});

test("basic auth: anonymous is refused (UNAUTHENTICATED); CRI username/password and `auth` both work", async (t) => {
  const creds = { user: "berth", password: "s3cret" };
  const { reg, d } = await setup(t, { basicAuth: creds });
  const img = await pushBusybox(reg);
  await assert.rejects(pull(d, img.reference), grpcError(code.UNAUTHENTICATED, /credentials/));
  await assert.rejects(pull(d, img.reference, { username: "berth", password: "wrong" }), (e: { code: number }) => e.code === code.UNAUTHENTICATED);
  assert.equal(await pull(d, img.reference, { username: creds.user, password: creds.password }), img.configDigest);
  await remove(d, img.reference);
  const auth = Buffer.from(`${creds.user}:${creds.password}`).toString("base64");
  assert.equal(await pull(d, img.reference, { auth }), img.configDigest);
});

test("bearer tokens: the WWW-Authenticate flow with CRI credentials, over TLS", async (t) => {
  const creds = { user: "tok", password: "en" };
  const { reg, d } = await setup(t, { tls: true, bearer: true, basicAuth: creds });
  const img = await pushBusybox(reg);
  assert.equal(await pull(d, img.reference, { username: creds.user, password: creds.password }), img.configDigest);
  const issued = reg.tokenServer!.requests.filter((r) => r.user === creds.user);
  assert.ok(issued.length >= 1, "a token was requested with the credentials");
});

test("hosts.toml mirrors: a dead mirror and one without the image fall back to the upstream; a mirror with it serves it", async (t) => {
  const upstream = await registry(t);
  const empty = await registry(t);
  const full = await registry(t);
  const img = await pushBusybox(upstream);
  await pushBusybox(full);
  // The upstream behind a counting proxy, to see who served what.
  const spy = await startProxy(upstream);
  t.after(() => spy.stop());
  const certsD = await tempDir(t, "berth-certsd-");
  const dead = await freePort();
  await writeHosts(certsD, upstream.host, [
    `server = "${spy.url}"`,
    `[host."http://127.0.0.1:${dead}"]`, `  capabilities = ["pull", "resolve"]`,
    `[host."${empty.url}"]`, `  capabilities = ["pull", "resolve"]`, "",
  ].join("\n"));
  const d = await daemon(t, certsD);
  assert.equal(await pull(d, img.reference), img.configDigest);
  assert.ok(spy.requests.some((r) => r.url.includes(`/blobs/${img.layers[0]!.digest}`)), "the upstream served the layer");
  await remove(d, img.reference);

  spy.requests.length = 0;
  await writeHosts(certsD, upstream.host, [`server = "${spy.url}"`, `[host."${full.url}"]`, `  capabilities = ["pull", "resolve"]`, ""].join("\n"));
  assert.equal(await pull(d, img.reference), img.configDigest, "hosts.toml edits apply without a restart");
  assert.deepEqual(spy.requests, [], "the mirror served everything");
  const [rec] = await list(d);
  assert.deepEqual(rec?.repoTags, [`${upstream.host}/busybox:latest`], "stored under the upstream's name, not the mirror's");
});

test("a registry that is not configured for plain http is not reached over http", async (t) => {
  const reg = await registry(t);
  const certsD = await tempDir(t, "berth-certsd-");
  await writeHostsToml(certsD, reg);
  const img = await pushBusybox(reg);
  await writeHosts(certsD, reg.host, ""); // no server line: https://<host> by default
  const d = await daemon(t, certsD);
  await assert.rejects(pull(d, img.reference), (e: { code: number; details: string }) => e.code === code.UNAVAILABLE && /127\.0\.0\.1/.test(e.details));
});
