// Manifest, index and image-config parsing (shape checks, caps), platform selection, and
// WWW-Authenticate parsing: pure logic on hand-made documents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BerthError, Code } from "../../../../src/errors.js";
import { parseManifest, type ImageIndex } from "../../../../src/images/registry/manifest.js";
import { MediaType, MAX_LAYERS } from "../../../../src/images/registry/media-types.js";
import { hostPlatform, normalizePlatform, selectManifest } from "../../../../src/images/registry/platform.js";
import { checkConfigMatchesManifest, parseImageConfig } from "../../../../src/images/registry/image-config.js";
import { parseWwwAuthenticate } from "../../../../src/images/registry/challenge.js";

const dg = (c: string): string => `sha256:${c.repeat(64)}`;
const desc = (mediaType: string, c: string, extra: object = {}): object => ({ mediaType, digest: dg(c), size: 10, ...extra });
const buf = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
const manifest = (over: object = {}): object => ({
  schemaVersion: 2, mediaType: MediaType.ociManifest,
  config: desc(MediaType.ociConfig, "c"), layers: [desc(MediaType.ociLayerGzip, "1"), desc(MediaType.ociLayerZstd, "2")], ...over,
});
const rejects = (bytes: Buffer, re: RegExp, contentType?: string): void => {
  assert.throws(() => parseManifest(bytes, contentType), (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.match(err.message, re);
    return true;
  });
};

test("OCI and Docker manifests parse", () => {
  const m = parseManifest(buf(manifest()));
  assert.equal(m.kind, "manifest");
  assert.equal(m.mediaType, MediaType.ociManifest);
  if (m.kind !== "manifest") return;
  assert.equal(m.layers.length, 2);
  assert.equal(m.config.digest, dg("c"));
  const d = parseManifest(buf(manifest({ mediaType: MediaType.dockerManifest, config: desc(MediaType.dockerConfig, "c"), layers: [desc(MediaType.dockerLayerGzip, "1")] })));
  assert.equal(d.mediaType, MediaType.dockerManifest);
  // OCI allows omitting mediaType: taken from Content-Type, else from the shape.
  const { mediaType: _m, ...bare } = manifest() as Record<string, unknown>;
  assert.equal(parseManifest(buf(bare)).mediaType, MediaType.ociManifest);
  assert.equal(parseManifest(buf(bare), `${MediaType.ociManifest}; charset=utf-8`).kind, "manifest");
});

test("indexes and manifest lists parse with platforms", () => {
  const idx = parseManifest(buf({
    schemaVersion: 2, mediaType: MediaType.dockerList,
    manifests: [desc(MediaType.dockerManifest, "a", { platform: { os: "linux", architecture: "arm", variant: "v6" } })],
  }));
  assert.equal(idx.kind, "index");
  if (idx.kind === "index") assert.deepEqual(idx.manifests[0]?.platform, { os: "linux", architecture: "arm", variant: "v6" });
});

test("strict shape checks", () => {
  rejects(Buffer.from("{"), /not valid JSON/);
  rejects(buf([]), /JSON object/);
  rejects(buf({ schemaVersion: 1, name: "x" }), /schema 1/);
  rejects(buf(manifest({ schemaVersion: 3 })), /schemaVersion must be 2/);
  rejects(buf(manifest({ config: desc(MediaType.ociConfig, "C") })), /sha256 digest/);
  rejects(buf(manifest({ layers: [{ mediaType: MediaType.ociLayerGzip, digest: dg("1"), size: -1 }] })), /non-negative integer/);
  rejects(buf(manifest({ layers: [{ mediaType: MediaType.ociLayerGzip, digest: dg("1"), size: 2 ** 60 }] })), /non-negative integer/);
  rejects(buf(manifest({ layers: [{ mediaType: MediaType.ociLayerGzip, digest: dg("1"), size: 1.5 }] })), /non-negative integer/);
  rejects(buf(manifest({ layers: [desc("application/x-unknown", "1")] })), /unknown layer media type/);
  rejects(buf(manifest({ config: desc("application/vnd.example.artifact", "c") })), /artifact, not a container image/);
  rejects(buf(manifest({ config: { ...desc(MediaType.ociConfig, "c"), size: 9 * 1024 * 1024 } })), /config is \d+ bytes/);
  rejects(buf(manifest({ layers: Array.from({ length: MAX_LAYERS + 1 }, () => desc(MediaType.ociLayerGzip, "1")) })), /at most 128/);
  rejects(buf(manifest({ layers: "x" })), /layers must be an array/);
  rejects(buf(manifest({ mediaType: "application/vnd.example+json" })), /media type/);
  rejects(buf(manifest({ annotations: { a: 1 } })), /annotations\["a"\] must be a string/);
  rejects(buf(manifest()), /does not match/, MediaType.dockerManifest);
  rejects(buf({ schemaVersion: 2, mediaType: MediaType.dockerList, manifests: [desc("application/x-y", "a")] }), /not an image manifest type/);
  rejects(Buffer.alloc(4 * 1024 * 1024 + 1, 32), /at most 4194304/);
});

const index = (entries: Array<[string, Record<string, string> | undefined]>, mediaType: string = MediaType.ociManifest): ImageIndex => ({
  kind: "index", mediaType: MediaType.ociIndex,
  manifests: entries.map(([c, p]) => ({ mediaType, digest: dg(c), size: 1, ...(p ? { platform: p as never } : {}) })),
});

test("platform selection: exact, variant fallbacks, attestations skipped", () => {
  const amd = { os: "linux", architecture: "amd64" };
  const idx = index([
    ["1", { os: "unknown", architecture: "unknown" }],
    ["2", { os: "linux", architecture: "arm", variant: "v6" }],
    ["3", { os: "linux", architecture: "arm", variant: "v7" }],
    ["4", { os: "linux", architecture: "arm64" }],
    ["5", amd],
    ["6", { os: "windows", architecture: "amd64" }],
  ]);
  assert.equal(selectManifest(idx, amd).digest, dg("5"));
  assert.equal(selectManifest(idx, { os: "linux", architecture: "arm64", variant: "v8" }).digest, dg("4"), "arm64 without variant is v8");
  assert.equal(selectManifest(idx, { os: "linux", architecture: "arm", variant: "v7" }).digest, dg("3"));
  const v6only = index([["2", { os: "linux", architecture: "arm", variant: "v6" }], ["9", { os: "linux", architecture: "arm", variant: "v8" }]]);
  assert.equal(selectManifest(v6only, { os: "linux", architecture: "arm", variant: "v7" }).digest, dg("2"), "v7 runs v6 before an unknown v8");
  const anyVariant = index([["7", { os: "linux", architecture: "amd64", variant: "v3" }]]);
  assert.equal(selectManifest(anyVariant, amd).digest, dg("7"), "same os/arch, any variant as a last resort");
  assert.equal(selectManifest(index([["8", undefined]]), amd).digest, dg("8"), "an entry without platform still matches");
  assert.throws(() => selectManifest(idx, { os: "linux", architecture: "s390x" }), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, Code.NOT_FOUND);
    assert.match(err.message, /linux\/s390x/);
    assert.match(err.message, /offers: .*linux\/arm\/v6, linux\/arm\/v7, linux\/arm64, linux\/amd64, windows\/amd64/);
    return true;
  });
  assert.throws(() => selectManifest(index([["1", { os: "linux", architecture: "amd64" }]], "application/x-art"), amd), /no image manifests/);
});

test("host platform and normalisation", () => {
  assert.deepEqual(hostPlatform("x64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(hostPlatform("arm64"), { os: "linux", architecture: "arm64", variant: "v8" });
  assert.deepEqual(hostPlatform("arm"), { os: "linux", architecture: "arm", variant: "v7" });
  assert.deepEqual(normalizePlatform({ os: "Linux", architecture: "aarch64" }), { os: "linux", architecture: "arm64", variant: "v8" });
  assert.deepEqual(normalizePlatform({ os: "linux", architecture: "x86_64" }), { os: "linux", architecture: "amd64" });
  assert.deepEqual(normalizePlatform({ os: "linux", architecture: "armhf" }), { os: "linux", architecture: "arm", variant: "v7" });
});

test("image config: fields, nulls, diff_ids, layer count check", () => {
  const cfg = parseImageConfig(buf({
    architecture: "amd64", os: "linux",
    config: {
      User: "app", Env: ["A=1", "B="], Entrypoint: ["/e"], Cmd: null, WorkingDir: "/w", StopSignal: "SIGUSR1",
      Volumes: { "/v": {} }, ExposedPorts: { "80/tcp": {}, "53/udp": {} }, Labels: { l: "x" },
    },
    rootfs: { type: "layers", diff_ids: [dg("d")] },
  }));
  assert.deepEqual(cfg.config, {
    user: "app", env: ["A=1", "B="], entrypoint: ["/e"], workingDir: "/w", stopSignal: "SIGUSR1",
    volumes: ["/v"], exposedPorts: ["80/tcp", "53/udp"], labels: { l: "x" },
  });
  assert.deepEqual(cfg.diffIds, [dg("d")]);
  const m = parseManifest(buf(manifest()));
  if (m.kind === "manifest") assert.throws(() => checkConfigMatchesManifest(cfg, m), /1 diff_ids but the manifest has 2 layers/);
  const minimal = parseImageConfig(buf({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
  assert.deepEqual(minimal.config, { env: [], volumes: [], exposedPorts: [], labels: {} });
  assert.throws(() => parseImageConfig(buf({ rootfs: { type: "x", diff_ids: [] } })), /rootfs.type/);
  assert.throws(() => parseImageConfig(buf({ rootfs: { type: "layers", diff_ids: ["x"] } })), /diff_ids\[0\]/);
  assert.throws(() => parseImageConfig(buf({ config: { Env: [1] }, rootfs: { type: "layers", diff_ids: [] } })), /Env\[0\] must be a string/);
  assert.throws(() => parseImageConfig(Buffer.alloc(8 * 1024 * 1024 + 1)), /at most/);
});

test("WWW-Authenticate parsing", () => {
  assert.deepEqual(
    parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'),
    [{ scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push" } }],
  );
  assert.deepEqual(parseWwwAuthenticate('Basic realm="x y", Bearer realm=https://t/,error="insufficient_scope"'), [
    { scheme: "basic", params: { realm: "x y" } },
    { scheme: "bearer", params: { realm: "https://t/", error: "insufficient_scope" } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="a\\"b"'), [{ scheme: "bearer", params: { realm: 'a"b' } }]);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
});
