// Air-gapped images: `berth image export` writes an OCI archive skopeo reads; `berth image import`
// loads OCI archives and `docker save` tarballs (skopeo-made and hand-made legacy ones); hostile
// archives are refused with nothing stored.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { runBerth, type Daemon } from "../fixtures/daemon.js";
import { pushBusybox, pushRichImage } from "../fixtures/images.js";
import { buildTar } from "../fixtures/layers.js";
import { assertNothingStored, list, onDisk, pull, remove, setup, status, tempDir } from "./images-kit.js";

const run = promisify(execFile);
const sha = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

async function tarOf(entries: { name: string; body?: Buffer; linkname?: string }[]): Promise<Buffer> {
  const p = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) out.push(c as Buffer);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (e.linkname) p.entry({ name: e.name, type: "symlink", linkname: e.linkname }, cb);
      else p.entry({ name: e.name, size: e.body!.length }, e.body!, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(out);
}

const berth = (d: Daemon, ...args: string[]) => runBerth([...args, "-r", d.socket], {}, 60_000);

test("export an image as an OCI archive (skopeo reads it), remove it, import it back", async (t) => {
  const { reg, d } = await setup(t);
  const img = await pushRichImage(reg);
  const id = await pull(d, img.reference);
  const dir = await tempDir(t);
  const file = join(dir, "rich.tar");
  const ex = await berth(d, "image", "export", img.reference, file);
  assert.equal(ex.code, 0, ex.stderr);
  const { stdout } = await run("skopeo", ["inspect", "--raw", `oci-archive:${file}`]);
  assert.equal(sha(stdout), img.manifestDigest.slice(7), "the archive holds the image's own manifest");
  const cfg = await run("skopeo", ["inspect", "--config", `oci-archive:${file}`]);
  assert.equal((JSON.parse(cfg.stdout) as { config: { User: string } }).config.User, "app");

  await remove(d, id);
  await assertNothingStored(d);
  const im = await berth(d, "image", "import", file);
  assert.equal(im.code, 0, im.stderr);
  assert.equal(im.stdout, `Loaded image: ${reg.host}/rich:latest\n`);
  const s = await status(d, img.reference);
  assert.equal(s.image?.id, id);
  assert.deepEqual(s.image?.repoDigests, [`${reg.host}/rich@${img.manifestDigest}`]);
  assert.equal((await onDisk(d)).layers.length, 3);
  const missing = await berth(d, "image", "export", "nothing:here", join(dir, "x.tar"));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /image "nothing:here" not found/);
});

test("import docker save tarballs: skopeo's docker-archive and a legacy layout with a linked duplicate layer", async (t) => {
  const { reg, d } = await setup(t);
  const bb = await pushBusybox(reg);
  const dir = await tempDir(t);
  const dockerTar = join(dir, "docker.tar");
  await run("skopeo", ["copy", "--insecure-policy", "--src-tls-verify=false", `docker://${bb.reference}`, `docker-archive:${dockerTar}:example.com/tools/busybox:1.0`]);
  const im = await berth(d, "image", "import", dockerTar);
  assert.equal(im.code, 0, im.stderr);
  assert.equal(im.stdout, "Loaded image: example.com/tools/busybox:1.0\n");
  assert.equal((await status(d, "example.com/tools/busybox:1.0")).image?.id, bb.configDigest);

  // Legacy `docker save`: <id>/layer.tar per layer (plain tar), the second layer a symlink to the first's copy.
  const l1 = await buildTar([{ type: "file", path: "one", content: "1" }]);
  const l2 = await buildTar([{ type: "file", path: "two", content: "2" }]);
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { User: "7" }, rootfs: { type: "layers", diff_ids: [`sha256:${sha(l1)}`, `sha256:${sha(l2)}`, `sha256:${sha(l1)}`] } }));
  const [a, b, c] = ["a".repeat(64), "b".repeat(64), "c".repeat(64)];
  const legacy = await tarOf([
    { name: `${a}/layer.tar`, body: l1 },
    { name: `${b}/layer.tar`, body: l2 },
    { name: `${c}/layer.tar`, linkname: `../${a}/layer.tar` },
    { name: `${sha(config)}.json`, body: config },
    { name: "manifest.json", body: Buffer.from(JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ["legacy:v1"], Layers: [`${a}/layer.tar`, `${b}/layer.tar`, `${c}/layer.tar`] }])) },
    { name: "repositories", body: Buffer.from("{}") },
  ]);
  const legacyFile = join(dir, "legacy.tar");
  await writeFile(legacyFile, legacy);
  const im2 = await berth(d, "image", "import", legacyFile);
  assert.equal(im2.code, 0, im2.stderr);
  assert.equal(im2.stdout, "Loaded image: docker.io/library/legacy:v1\n");
  const s = (await status(d, "legacy:v1")).image;
  assert.equal(s?.id, `sha256:${sha(config)}`);
  assert.equal(s?.uid?.value, 7n);
  const ex = await berth(d, "image", "export", "legacy:v1", join(dir, "legacy-oci.tar"));
  assert.equal(ex.code, 0, ex.stderr);
  const inspect = await run("skopeo", ["inspect", "--config", `oci-archive:${join(dir, "legacy-oci.tar")}`]);
  assert.equal((JSON.parse(inspect.stdout) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids.length, 3);
});

test("hostile archives are refused and nothing is stored", async (t) => {
  const { d } = await setup(t);
  const dir = await tempDir(t);
  const layer = gzipSync(await buildTar([{ type: "file", path: "x", content: "x" }]));
  const cases: [string, Buffer, RegExp][] = [
    ["escape", await tarOf([{ name: "../../etc/evil", body: Buffer.from("x") }]), /escapes the archive root/],
    ["lying blob name", await tarOf([{ name: `blobs/sha256/${"0".repeat(64)}`, body: layer }]), /content has digest sha256:[0-9a-f]{64}, not sha256:0{64}/],
    ["no index", await tarOf([{ name: "hello.txt", body: Buffer.from("hi") }]), /neither index\.json .* nor manifest\.json/],
    ["missing blobs", await tarOf([{ name: "index.json", body: Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"1".repeat(64)}`, size: 10 }] })) }]), /not in the archive/],
  ];
  for (const [name, body, pattern] of cases) {
    const file = join(dir, `${name.replace(/ /g, "-")}.tar`);
    await writeFile(file, body);
    const r = await berth(d, "image", "import", file);
    assert.equal(r.code, 1, `${name}: ${r.stdout}`);
    assert.match(r.stderr, pattern, name);
    await assertNothingStored(d);
  }
  assert.deepEqual(await list(d), []);
});
