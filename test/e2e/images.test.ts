// PullImage, ListImages, ImageStatus, RemoveImage and ImageFsInfo against the real daemon and a
// real registry: references of every shape, records, idempotent removal, usage figures, pinning.
import { test } from "node:test";
import assert from "node:assert/strict";
import { status as code } from "@grpc/grpc-js";
import { hostPlatform, pushBusybox, pushImage, pushIndex } from "../fixtures/images.js";
import { writeHostsToml } from "../fixtures/registry.js";
import { startDaemon } from "../fixtures/daemon.js";
import {
  assertNothingStored, daemon, fsInfo, grpcError, hexOf, list, onDisk, pull, registry, remove, setup, status, tempDir, writeHosts,
} from "./images-kit.js";

test("pull by tag returns the image ID (config digest); list and status agree", async (t) => {
  const { reg, d } = await setup(t);
  const img = await pushBusybox(reg);
  const id = await pull(d, img.reference);
  assert.equal(id, img.configDigest);
  const all = await list(d);
  assert.equal(all.length, 1);
  assert.equal(all[0]?.id, id);
  assert.deepEqual(all[0]?.repoTags, [`${reg.host}/busybox:latest`]);
  assert.deepEqual(all[0]?.repoDigests, [`${reg.host}/busybox@${img.manifestDigest}`]);
  assert.equal(all[0]?.size, BigInt(img.manifest.length + img.config.length + img.layers.reduce((n, l) => n + l.size, 0)));
  const s = await status(d, img.reference, true);
  assert.equal(s.image?.id, id);
  const info = JSON.parse(s.info["info"] ?? "{}") as { imageSpec: { rootfs: { diff_ids: string[] } }; lowerDirs: string[] };
  assert.deepEqual(info.imageSpec.rootfs.diff_ids, img.layers.map((l) => l.diffId));
  assert.equal(info.lowerDirs.length, 1);
  // Pulling again changes nothing and returns the same ID.
  assert.equal(await pull(d, img.reference), id);
  assert.equal((await list(d)).length, 1);
  assert.deepEqual((await status(d, "127.0.0.1:1/nothing:here")).image, undefined, "absent image: no image, no error");
});

test("lookups by ID, ID prefix, tag, digest and name:tag@digest; a malformed name is INVALID_ARGUMENT", async (t) => {
  const { reg, d } = await setup(t);
  const img = await pushBusybox(reg, "app", "v1");
  const id = await pull(d, `${reg.host}/app@${img.manifestDigest}`);
  assert.equal(id, img.configDigest);
  let [rec] = await list(d);
  assert.deepEqual(rec?.repoTags, [], "a pull by digest adds no tag");
  assert.deepEqual(rec?.repoDigests, [`${reg.host}/app@${img.manifestDigest}`]);
  await pull(d, `${reg.host}/app:v1@${img.manifestDigest}`);
  [rec] = await list(d);
  assert.deepEqual(rec?.repoTags, [], "name:tag@digest pulls by digest and drops the tag, as containerd does");
  await pull(d, `${reg.host}/app:v1`);
  [rec] = await list(d);
  assert.deepEqual(rec?.repoTags, [`${reg.host}/app:v1`]);
  for (const q of [id, hexOf(id), hexOf(id).slice(0, 12), `sha256:${hexOf(id).slice(0, 8)}`, `${reg.host}/app:v1`,
    `${reg.host}/app@${img.manifestDigest}`, img.manifestDigest, `${reg.host}/app:other@${img.manifestDigest}`]) {
    assert.equal((await status(d, q)).image?.id, id, `lookup by ${q}`);
  }
  assert.equal((await status(d, `${reg.host}/app:v2`)).image, undefined);
  assert.equal((await status(d, "ffffffffffff")).image, undefined);
  await assert.rejects(status(d, "Bad/Name"), grpcError(code.INVALID_ARGUMENT, /must be lowercase/));
  const other = await pushImage(reg, { repo: "other", tag: "v1", layers: [{ entries: [{ type: "file", path: "x", content: "x" }] }] });
  const id2 = await pull(d, other.reference);
  assert.equal((await list(d, `${reg.host}/other:v1`)).map((i) => i.id).join(), id2, "ListImages filter");
  assert.deepEqual(await list(d, `${reg.host}/none:v1`), []);
});

test("short names normalise to docker.io/library (served by a hosts.toml whose server is the loopback registry)", async (t) => {
  const reg = await registry(t);
  await pushBusybox(reg, "library/busybox", "latest");
  const certsD = await tempDir(t, "berth-certsd-");
  // docker.io's server is the local registry: no upstream fallback, nothing leaves the machine.
  await writeHosts(certsD, "docker.io", `server = "${reg.url}"\n`);
  const d = await daemon(t, certsD);
  const id = await pull(d, "busybox");
  const [rec] = await list(d);
  assert.deepEqual(rec?.repoTags, ["docker.io/library/busybox:latest"]);
  assert.match(rec?.repoDigests[0] ?? "", /^docker\.io\/library\/busybox@sha256:/);
  for (const q of ["busybox", "busybox:latest", "library/busybox", "docker.io/library/busybox:latest", "docker.io/busybox", "index.docker.io/library/busybox"]) {
    assert.equal((await status(d, q)).image?.id, id, q);
  }
});

test("manifest list: the host platform is chosen; no match lists the platforms offered", async (t) => {
  const { reg, d } = await setup(t);
  const host = hostPlatform();
  const foreign = host.architecture === "s390x" ? { os: "linux", architecture: "ppc64le" } : { os: "linux", architecture: "s390x" };
  const layer = (s: string) => ({ entries: [{ type: "file" as const, path: "arch", content: s }] });
  const idx = await pushIndex(reg, { repo: "multi", tag: "v1", mediaTypes: "docker", images: [
    { platform: foreign, layers: [layer("foreign")] },
    { platform: host, layers: [layer("host")] },
  ] });
  const id = await pull(d, idx.reference);
  assert.equal(id, idx.images[1]?.configDigest);
  const [rec] = await list(d);
  assert.deepEqual(rec?.repoDigests, [`${reg.host}/multi@${idx.indexDigest}`], "the repo digest is the index's");
  const only = await pushIndex(reg, { repo: "foreign", tag: "v1", images: [{ platform: foreign, layers: [layer("f")] }] });
  await assert.rejects(pull(d, only.reference), (e: { code: number; details: string }) => {
    assert.match(e.details, new RegExp(`linux/${foreign.architecture}`));
    return e.code !== code.OK;
  });
});

test("remove by tag (untag only while other tags remain), by ID, by digest; twice is fine; GC deletes unreferenced data", async (t) => {
  const { reg, d } = await setup(t);
  const a = await pushBusybox(reg, "a", "v1");
  await pushBusybox(reg, "b", "v1");
  const id = await pull(d, a.reference);
  assert.equal(await pull(d, `${reg.host}/b:v1`), id, "same content, same image");
  assert.deepEqual((await list(d))[0]?.repoTags.sort(), [`${reg.host}/a:v1`, `${reg.host}/b:v1`]);
  await remove(d, a.reference);
  assert.deepEqual((await list(d))[0]?.repoTags, [`${reg.host}/b:v1`], "one of two tags removed: the image stays");
  await remove(d, a.reference); // already gone: still OK
  await remove(d, id);
  assert.deepEqual(await list(d), []);
  await remove(d, id);
  await assertNothingStored(d);

  await pull(d, a.reference);
  await remove(d, `${reg.host}/a@${a.manifestDigest}`);
  await remove(d, `${reg.host}/a@${a.manifestDigest}`);
  await assertNothingStored(d);

  // A layer shared by two images stays until the second goes.
  const base = { entries: [{ type: "file" as const, path: "base", content: "shared base layer" }] };
  const x = await pushImage(reg, { repo: "x", tag: "v1", layers: [base, { entries: [{ type: "file", path: "x", content: "x" }] }] });
  const y = await pushImage(reg, { repo: "y", tag: "v1", layers: [base, { entries: [{ type: "file", path: "y", content: "y" }] }] });
  await pull(d, x.reference);
  await pull(d, y.reference);
  assert.equal((await onDisk(d)).layers.length, 3, "base + x + y");
  await remove(d, x.reference);
  const left = await onDisk(d);
  assert.equal(left.layers.length, 2, "base and y stay");
  assert.ok(left.blobs.includes(hexOf(y.layers[0]!.digest)), "the shared blob stays");
  assert.ok(!left.blobs.includes(hexOf(x.layers[1]!.digest)), "x's own blob goes");
  await remove(d, y.reference);
  await assertNothingStored(d);
});

test("ImageFsInfo: bytes and inodes of the image store grow with a pull and shrink after removal", async (t) => {
  const { reg, d } = await setup(t);
  const img = await pushBusybox(reg);
  const before = await fsInfo(d);
  const fs0 = before.imageFilesystems[0]!;
  assert.equal(fs0.fsId?.mountpoint, `${d.root}/layers`);
  assert.ok(fs0.timestamp > 0n);
  // One filesystem: the same mountpoint, or kubelet (KEP-4191) takes it for a split image filesystem.
  assert.equal(before.containerFilesystems[0]?.fsId?.mountpoint, `${d.root}/layers`);
  await pull(d, img.reference);
  const after = (await fsInfo(d)).imageFilesystems[0]!;
  const grew = after.usedBytes!.value - fs0.usedBytes!.value;
  // The busybox binary (~1-2 MB) is stored twice: compressed blob + unpacked file.
  assert.ok(grew > BigInt(img.layers[0]!.size), `grew by ${grew} bytes`);
  assert.ok(after.inodesUsed!.value > fs0.inodesUsed!.value + 5n, `inodes ${fs0.inodesUsed!.value} -> ${after.inodesUsed!.value}`);
  assert.ok(after.timestamp >= fs0.timestamp);
  await remove(d, img.reference);
  const gone = (await fsInfo(d)).imageFilesystems[0]!;
  assert.equal(gone.usedBytes!.value, fs0.usedBytes!.value);
  assert.equal(gone.inodesUsed!.value, fs0.inodesUsed!.value);
});

test("the sandbox image is pinned; uid or username come from the config's User", async (t) => {
  const reg = await registry(t);
  const certsD = await tempDir(t, "berth-certsd-");
  await writeHostsToml(certsD, reg);
  const pause = await pushImage(reg, { repo: "pause", tag: "3.10", layers: [{ entries: [{ type: "file", path: "pause", content: "p" }] }], config: { User: "65535:65535" } });
  const app = await pushImage(reg, { repo: "app", tag: "v1", layers: [{ entries: [{ type: "file", path: "a", content: "a" }] }], config: { User: "app:app" } });
  const d = await daemon(t, certsD, `[images]\nsandbox_image = "${pause.reference}"`);
  await pull(d, pause.reference);
  await pull(d, app.reference);
  const p = (await status(d, pause.reference)).image;
  assert.equal(p?.pinned, true);
  assert.equal(p?.uid?.value, 65535n);
  assert.equal(p?.username, "");
  const a = (await status(d, app.reference)).image;
  assert.equal(a?.pinned, false);
  assert.equal(a?.uid, undefined);
  assert.equal(a?.username, "app");
});

test("records and layers survive a daemon restart", async (t) => {
  const reg = await registry(t);
  const certsD = await tempDir(t, "berth-certsd-");
  await writeHostsToml(certsD, reg);
  const img = await pushBusybox(reg);
  const keep = await tempDir(t, "berth-keep-");
  const toml = `[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${certsD}/none.conf"\n`;
  const d1 = await startDaemon({ toml, args: ["--root", keep] });
  let id: string;
  try {
    id = await pull(d1, img.reference);
  } finally {
    assert.equal(await d1.stop(), 0);
  }
  const d2 = await startDaemon({ toml, args: ["--root", keep] });
  t.after(() => d2.stop());
  assert.deepEqual((await list(d2)).map((i) => i.id), [id]);
  assert.equal((await status(d2, img.reference)).image?.id, id);
  const started = Date.now();
  assert.equal(await pull(d2, img.reference), id);
  assert.ok(Date.now() - started < 2000);
  assert.ok(!/layer applied/.test(d2.logs()), "layers were not applied again");
});
