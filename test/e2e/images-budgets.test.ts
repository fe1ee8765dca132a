// Unpack budgets end to end with the real registry: a 10 GiB gzip bomb and a per-image budget
// are refused naming their keys, leave no layer directory, and do not keep the next pull from working.
import { test } from "node:test";
import assert from "node:assert/strict";
import { status as grpcStatus } from "@grpc/grpc-js";
import { pushBomb } from "../fixtures/bomb.js";
import { pushBusybox, pushImage } from "../fixtures/images.js";
import { grpcError, list, onDisk, pull, setup } from "./images-kit.js";

test("a 10 GiB gzip bomb is refused by the compression-ratio guard; nothing stays, the next pull works", async (t) => {
  const { reg, d } = await setup(t);
  const bomb = await pushBomb(reg, "bomb", "v1", 10 * 1024 ** 3);
  assert.ok(bomb.blobBytes < 12 * 1024 * 1024, `the bomb is ${bomb.blobBytes} bytes compressed`);
  const what = `layer 1 of 1 \\(${bomb.layerDigest}\\) of ${reg.host}/bomb`;
  await assert.rejects(
    pull(d, bomb.reference),
    grpcError(grpcStatus.RESOURCE_EXHAUSTED, new RegExp(`${what} inflates past 100:1 after 512\\.\\d MiB .*\\(images\\.max_compression_ratio\\); raise the key if this image is genuine`)),
  );
  assert.deepEqual((await onDisk(d)).layers, [], "the partial layer directory is removed");
  const ok = await pushBusybox(reg);
  await pull(d, ok.reference);
  assert.deepEqual((await list(d)).flatMap((i) => i.repoTags), [`${reg.host}/busybox:latest`]);
  assert.equal((await onDisk(d)).layers.length, 1);
});

test("the per-image budget counts every layer: the layer that takes the image past it is refused", async (t) => {
  const { reg, d } = await setup(t, {}, "[images]\nmax_image_entries = 5\nmax_layer_inodes = 4");
  const three = (dir: string) => ({ entries: [0, 1, 2].map((i) => ({ type: "file" as const, path: `${dir}${i}`, content: `${i}` })) });
  const img = await pushImage(reg, { repo: "two", tag: "v1", layers: [three("a"), three("b")] });
  const what = `layer 2 of 2 \\(${img.layers[1]!.digest}\\) of ${reg.host}/two`;
  await assert.rejects(
    pull(d, img.reference),
    grpcError(grpcStatus.RESOURCE_EXHAUSTED, new RegExp(`${what} takes its image past 5 tar entries in all \\(the layers below use 3 tar entries\\) \\(images\\.max_image_entries\\)`)),
  );
  assert.equal((await onDisk(d)).layers.length, 1, "the first layer stays (it is fine on its own); the refused one is removed");
  // An implicit parent directory counts as an inode: a/b/c/f makes four.
  const deep = await pushImage(reg, { repo: "deep", tag: "v1", layers: [{ entries: [{ type: "file", path: "a/b/c/d/f", content: "x" }] }] });
  await assert.rejects(
    pull(d, deep.reference),
    grpcError(grpcStatus.RESOURCE_EXHAUSTED, /layer 1 of 1 \(sha256:[0-9a-f]{64}\) of .*\/deep unpacks to more than 4 inodes \(images\.max_layer_inodes\)/),
  );
  const fine = await pushImage(reg, { repo: "fine", tag: "v1", layers: [three("c")] });
  await pull(d, fine.reference);
});
