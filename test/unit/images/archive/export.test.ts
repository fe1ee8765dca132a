// Export streams from the content store: a reader that goes away mid-archive must neither crash
// the daemon (an unhandled tar pack error) nor keep the image's blobs leased against GC.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportArchive } from "../../../../src/images/archive/export.js";
import { ContentStore } from "../../../../src/images/content/store.js";
import type { ImageContext } from "../../../../src/images/context.js";
import { Leases } from "../../../../src/images/leases.js";
import { ImageStore } from "../../../../src/images/store.js";
import { Store } from "../../../../src/store/db.js";

test("export: a reader that disconnects mid-archive crashes nothing and releases the blob leases", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-export-"));
  const db = Store.open(join(dir, "berth.db"));
  t.after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  process.on("uncaughtException", onUncaught);
  t.after(() => void process.off("uncaughtException", onUncaught));

  const content = new ContentStore(join(dir, "content"));
  await content.init();
  const put = async (b: Buffer): Promise<string> => {
    const d = `sha256:${createHash("sha256").update(b).digest("hex")}`;
    await content.put(d, b);
    return d;
  };
  const big = randomBytes(8 << 20);
  const layer = await put(big);
  const config = await put(Buffer.from("{}"));
  const manifest = await put(Buffer.from('{"schemaVersion":2}'));
  const images = new ImageStore(db);
  images.commit({
    id: config, repoTags: ["registry.test/app:v1"], repoDigests: [], size: 1, manifestDigest: manifest,
    manifestMediaType: "application/vnd.oci.image.manifest.v1+json", manifestSize: 19, configMediaType: "c", configSize: 2,
    indexDigests: [], layers: [{ digest: layer, size: big.length, mediaType: "application/vnd.oci.image.layer.v1.tar", diffId: layer, chainId: layer }],
    user: "", created: 0,
  });
  const blobLeases = new Leases();
  const ctx = { content, images, blobLeases } as unknown as ImageContext;

  const ex = await exportArchive(ctx, "registry.test/app:v1");
  assert.ok(blobLeases.has(layer), "the export holds its blobs while it streams");
  ex.stream.on("error", () => {});
  await new Promise<void>((resolve) => ex.stream.once("data", () => {
    ex.stream.destroy();
    resolve();
  }));
  for (let i = 0; i < 100 && blobLeases.has(layer); i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(uncaught, [], "no uncaught exception");
  assert.equal(blobLeases.has(layer), false, "the layer's lease is released");
  assert.equal(blobLeases.has(config), false, "the config's lease is released");
});
