// ImageFsInfo's filesystems: kubelet (KEP-4191, KubeletSeparateDiskGC) reads different image and
// container mountpoints as a split image filesystem, so one filesystem must give one mountpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContentStore } from "../../../src/images/content/store.js";
import { FsInfo } from "../../../src/images/fsinfo.js";
import { LayerStore } from "../../../src/images/layers/store.js";
import { Store } from "../../../src/store/db.js";

test("ImageFsInfo: image and container filesystems on one filesystem share the image store's mountpoint", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-fsinfo-"));
  const db = Store.open(join(dir, "berth.db"));
  t.after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const content = new ContentStore(join(dir, "content"));
  await content.init();
  const layers = new LayerStore(join(dir, "layers"), db);
  await layers.init();
  await mkdir(join(dir, "containers"));
  const info = new FsInfo(content, layers, join(dir, "containers"));
  const images = await info.imageFs();
  const containers = await info.containerFs();
  assert.equal(images.mountpoint, join(dir, "layers"));
  assert.equal(containers.mountpoint, images.mountpoint, "not reported as a split image filesystem");
  assert.ok(containers.inodes >= 1, "the containers directory is still measured");
});
