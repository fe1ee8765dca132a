// The pull client against real docker-registry fixtures: plain http, TLS with the test CA,
// basic auth, bearer tokens (caching, expiry, OAuth2 refresh, registry tokens), multi-platform.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BerthError, Code } from "../../../../src/errors.js";
import { parseImageConfig } from "../../../../src/images/registry/image-config.js";
import { MAX_CONFIG_BYTES } from "../../../../src/images/registry/media-types.js";
import { hostPlatform } from "../../../../src/images/registry/platform.js";
import { pushBusybox, pushImage, pushIndex, pushRichImage } from "../../../fixtures/images.js";
import { client, hostsDir, readAll, registry, sha256, tempDir, writeToml } from "./setup.js";

const isCode = (code: Code, re?: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof BerthError, `expected a BerthError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (re) assert.match(err.message, re);
  return true;
};

test("plain http registry via hosts.toml: resolve, config, blobs with and without offset", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const c = client(t, { configPath: await hostsDir(t, reg) });
  const { top, image } = await c.resolveImage(img.reference);
  assert.equal(top.digest, img.manifestDigest);
  assert.equal(top.name, `${reg.host}/busybox`);
  assert.equal(image, top);
  assert.equal(top.endpoint.url, `${reg.url}/v2`);
  assert.deepEqual(top.bytes, img.manifest);
  const config = await c.fetchBlobBytes(top.name, image.manifest.config.digest, MAX_CONFIG_BYTES);
  assert.deepEqual(parseImageConfig(config).config.cmd, ["sh"]);
  const layer = img.layers[0];
  assert.ok(layer);
  const whole = await c.fetchBlob(top.name, layer.digest, { expectedSize: layer.size });
  assert.equal(whole.offset, 0);
  assert.equal(whole.size, layer.size);
  assert.equal(sha256(await readAll(whole.stream)), layer.digest);
  const tail = await c.fetchBlob(top.name, layer.digest, { offset: 1000 });
  assert.equal(tail.offset, 1000);
  assert.equal(tail.size, layer.size);
  assert.deepEqual(await readAll(tail.stream), layer.blob.subarray(1000));
  // Pinned by digest, and a tag@digest reference, resolve the same bytes.
  assert.equal((await c.resolve(`${reg.host}/busybox@${img.manifestDigest}`)).digest, img.manifestDigest);
  assert.equal((await c.resolve(`${reg.host}/busybox:latest@${img.manifestDigest}`)).digest, img.manifestDigest);
});

test("missing tags, repositories and blobs are NOT_FOUND", async (t) => {
  const reg = await registry(t);
  const img = await pushBusybox(reg);
  const c = client(t, { configPath: await hostsDir(t, reg) });
  await assert.rejects(c.resolve(`${reg.host}/busybox:nope`), isCode(Code.NOT_FOUND, /MANIFEST_UNKNOWN|not found/));
  await assert.rejects(c.resolve(`${reg.host}/nothing/here`), isCode(Code.NOT_FOUND));
  await assert.rejects(c.fetchBlob(`${reg.host}/busybox`, `sha256:${"0".repeat(64)}`), isCode(Code.NOT_FOUND, /blob sha256:0+/));
  await assert.rejects(c.fetchBlob(`${reg.host}/busybox`, img.layers[0]?.digest ?? "", { expectedSize: 5 }), isCode(Code.DATA_LOSS, /manifest says 5/));
});

test("plain http is not used unless configured", async (t) => {
  const reg = await registry(t);
  await pushBusybox(reg);
  const c = client(t, {});
  await assert.rejects(c.resolve(`${reg.host}/busybox`), isCode(Code.UNAVAILABLE, new RegExp(`cannot reach ${reg.host}`)));
});

test("TLS: the test CA from hosts.toml is trusted; without it the pull fails with a hint; skip_verify works", async (t) => {
  const reg = await registry(t, { tls: true });
  const img = await pushBusybox(reg);
  const withCa = client(t, { configPath: await hostsDir(t, reg) });
  assert.equal((await withCa.resolve(img.reference)).digest, img.manifestDigest);
  const bare = client(t, {});
  await assert.rejects(bare.resolve(img.reference), isCode(Code.UNAVAILABLE, /hosts\.toml `ca`/));
  const skip = await tempDir(t);
  await writeToml(skip, reg.host, "skip_verify = true\n");
  assert.equal((await client(t, { configPath: skip }).resolve(img.reference)).digest, img.manifestDigest);
  // certs.d style: a directory with only ca.crt.
  const certsd = await tempDir(t);
  const { cp } = await import("node:fs/promises");
  await cp(reg.caDir ?? "", `${certsd}/${reg.host}`, { recursive: true });
  assert.equal((await client(t, { configPath: certsd }).resolve(img.reference)).digest, img.manifestDigest);
});

test("registries.conf insecure=true: unverified TLS, and plain http after a TLS protocol failure", async (t) => {
  const tls = await registry(t, { tls: true });
  const plain = await registry(t);
  const a = await pushBusybox(tls);
  const b = await pushBusybox(plain);
  const dir = await tempDir(t);
  const conf = `${dir}/registries.conf`;
  const { writeFile } = await import("node:fs/promises");
  await writeFile(conf, `[[registry]]\nlocation = "${tls.host}"\ninsecure = true\n[[registry]]\nlocation = "${plain.host}"\ninsecure = true\n`);
  const c = client(t, { registriesConf: conf });
  assert.equal((await c.resolve(a.reference)).digest, a.manifestDigest);
  const r = await c.resolve(b.reference);
  assert.equal(r.digest, b.manifestDigest);
  const blob = await c.fetchBlob(r.name, b.layers[0]?.digest ?? "");
  assert.equal(sha256(await readAll(blob.stream)), b.layers[0]?.digest);
});

test("basic auth: AuthConfig username/password or auth; missing, wrong or foreign credentials fail", async (t) => {
  const reg = await registry(t, { basicAuth: { user: "alice", password: "s3cret" } });
  const img = await pushBusybox(reg);
  const c = client(t, { configPath: await hostsDir(t, reg) });
  const ok = await c.resolve(img.reference, { auth: { username: "alice", password: "s3cret", serverAddress: reg.host } });
  assert.equal(ok.digest, img.manifestDigest);
  const blob = await c.fetchBlob(ok.name, img.layers[0]?.digest ?? "", { auth: { auth: Buffer.from("alice:s3cret").toString("base64") } });
  assert.equal(sha256(await readAll(blob.stream)), img.layers[0]?.digest);
  await assert.rejects(c.resolve(img.reference), isCode(Code.UNAUTHENTICATED, /none were given/));
  await assert.rejects(c.resolve(img.reference, { auth: { username: "alice", password: "wrong" } }), isCode(Code.UNAUTHENTICATED, /HTTP 401/));
  await assert.rejects(
    c.resolve(img.reference, { auth: { username: "alice", password: "s3cret", serverAddress: "https://other.example" } }),
    isCode(Code.UNAUTHENTICATED),
    "credentials for another registry are not sent",
  );
});

test("bearer tokens: anonymous flow, one token per scope reused across requests", async (t) => {
  const reg = await registry(t, { bearer: true });
  const img = await pushBusybox(reg);
  const ts = reg.tokenServer;
  assert.ok(ts);
  const c = client(t, { configPath: await hostsDir(t, reg) });
  const r = await c.resolve(img.reference);
  await readAll((await c.fetchBlob(r.name, img.configDigest)).stream);
  await readAll((await c.fetchBlob(r.name, img.layers[0]?.digest ?? "")).stream);
  assert.equal(ts.requests.length, 1, "the token is cached and sent up front");
  assert.deepEqual(ts.requests[0]?.scopes, ["repository:busybox:pull"]);
  assert.equal(ts.requests[0]?.service, "berth-test-registry");
  assert.equal(ts.requests[0]?.user, "");
  await pushImage(reg, { repo: "other", tag: "v1", layers: [] });
  await c.resolve(`${reg.host}/other:v1`);
  assert.equal(ts.requests.length, 2, "another repository is another scope");
});

test("bearer tokens with basic credentials at the token server, and expiry", async (t) => {
  const reg = await registry(t, { bearer: { expiresIn: 2 }, basicAuth: { user: "bob", password: "pw" } });
  const img = await pushBusybox(reg);
  const ts = reg.tokenServer;
  assert.ok(ts);
  const c = client(t, { configPath: await hostsDir(t, reg) });
  await assert.rejects(c.resolve(img.reference), isCode(Code.UNAUTHENTICATED), "an anonymous token grants nothing");
  await assert.rejects(c.resolve(img.reference, { auth: { username: "bob", password: "bad" } }), isCode(Code.UNAUTHENTICATED, /rejected the credentials/));
  const auth = { username: "bob", password: "pw" };
  const before = ts.requests.length;
  await c.resolve(img.reference, { auth });
  await c.resolve(img.reference, { auth });
  assert.equal(ts.requests.length, before + 1);
  assert.equal(ts.requests.at(-1)?.user, "bob");
  await new Promise((r) => setTimeout(r, 1700)); // past expires_in minus the safety margin
  await c.resolve(img.reference, { auth });
  assert.equal(ts.requests.length, before + 2, "an expired token is fetched again");
});

test("identity_token: OAuth2 refresh_token POST, with GET fallback when the realm has no POST flow", async (t) => {
  const reg = await registry(t, { bearer: { refreshToken: "rt-123" }, basicAuth: { user: "carol", password: "pw" } });
  const img = await pushBusybox(reg);
  const ts = reg.tokenServer;
  assert.ok(ts);
  const c = client(t, { configPath: await hostsDir(t, reg) });
  assert.equal((await c.resolve(img.reference, { auth: { identityToken: "rt-123" } })).digest, img.manifestDigest);
  assert.equal(ts.requests.at(-1)?.method, "POST");
  assert.equal(ts.requests.at(-1)?.grantType, "refresh_token");
  await assert.rejects(client(t, { configPath: await hostsDir(t, reg) }).resolve(img.reference, { auth: { identityToken: "wrong" } }), isCode(Code.UNAUTHENTICATED));

  const noPost = await registry(t, { bearer: { oauthPost: false } });
  const img2 = await pushBusybox(noPost);
  const c2 = client(t, { configPath: await hostsDir(t, noPost) });
  assert.equal((await c2.resolve(img2.reference, { auth: { username: "dave", identityToken: "anything" } })).digest, img2.manifestDigest);
  assert.deepEqual(noPost.tokenServer?.requests.map((r) => [r.method, r.user]), [["POST", "<refresh>"], ["GET", "dave"]]);
});

test("registry_token is used as the bearer token directly", async (t) => {
  const reg = await registry(t, { bearer: true, basicAuth: { user: "u", password: "p" } });
  const img = await pushBusybox(reg);
  const ts = reg.tokenServer;
  assert.ok(ts);
  const token = ts.mint(["repository:busybox:pull"]);
  const c = client(t, { configPath: await hostsDir(t, reg) });
  const r = await c.resolve(img.reference, { auth: { registryToken: token } });
  await readAll((await c.fetchBlob(r.name, img.configDigest, { auth: { registryToken: token } })).stream);
  assert.equal(ts.requests.length, 0);
});

test("TLS + bearer + basic together (token server over TLS with the same CA)", async (t) => {
  const reg = await registry(t, { tls: true, bearer: true, basicAuth: { user: "u", password: "p" } });
  const img = await pushRichImage(reg, "rich", "v1", "zstd");
  const c = client(t, { configPath: await hostsDir(t, reg) });
  const { image } = await c.resolveImage(img.reference, { auth: { username: "u", password: "p" } });
  assert.equal(image.manifest.layers.length, 3);
  assert.equal(image.manifest.layers[1]?.mediaType, "application/vnd.oci.image.layer.v1.tar+zstd");
  const cfg = parseImageConfig(await c.fetchBlobBytes(image.name, image.manifest.config.digest, MAX_CONFIG_BYTES, { auth: { username: "u", password: "p" } }));
  assert.equal(cfg.config.user, "app");
  assert.deepEqual(cfg.config.entrypoint, ["/opt/app/run.sh"]);
  assert.equal(cfg.config.stopSignal, "SIGUSR1");
  assert.deepEqual(cfg.diffIds, img.layers.map((l) => l.diffId));
});

test("multi-platform: OCI index and Docker list pick this host's platform; no match lists the offer", async (t) => {
  const reg = await registry(t);
  const c = client(t, { configPath: await hostsDir(t, reg) });
  const host = hostPlatform();
  const other = host.architecture === "arm64" ? { os: "linux", architecture: "amd64" } : { os: "linux", architecture: "arm64", variant: "v8" };
  for (const mediaTypes of ["oci", "docker"] as const) {
    const idx = await pushIndex(reg, {
      repo: `multi-${mediaTypes}`, tag: "v1", mediaTypes,
      images: [
        { platform: other, layers: [{ entries: [{ type: "file", path: "arch", content: "other" }] }] },
        { platform: host, layers: [{ entries: [{ type: "file", path: "arch", content: "host" }] }] },
      ],
    });
    const { top, image } = await c.resolveImage(idx.reference);
    assert.equal(top.digest, idx.indexDigest);
    assert.equal(top.manifest.kind, "index");
    assert.equal(image.digest, idx.images[1]?.manifestDigest);
    const { image: o } = await c.resolveImage(idx.reference, { platform: other });
    assert.equal(o.digest, idx.images[0]?.manifestDigest);
    await assert.rejects(c.resolveImage(idx.reference, { platform: { os: "linux", architecture: "s390x" } }),
      isCode(Code.NOT_FOUND, /linux\/s390x.*offers: linux\/(arm64\/v8|amd64), linux\//));
  }
});
