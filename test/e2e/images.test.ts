// PullImage, ListImages, ImageStatus, RemoveImage and ImageFsInfo against the real daemon and a
// real registry: references of every shape, records, idempotent removal, usage figures.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pushBusybox } from "../fixtures/images.js";
import { list, pull, setup, status } from "./images-kit.js";

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
  const s = await status(d, img.reference, true);
  assert.equal(s.image?.id, id);
  const info = JSON.parse(s.info["info"] ?? "{}") as { imageSpec: { rootfs: { diff_ids: string[] } } };
  assert.deepEqual(info.imageSpec.rootfs.diff_ids, img.layers.map((l) => l.diffId));
});
