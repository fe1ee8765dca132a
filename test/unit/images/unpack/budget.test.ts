// The compression-ratio guard as a blob inflates in the worker (gzip and zstd): a bomb is refused
// past the floor naming the key, an ordinary layer passes; and the budget meter's wording.
import { Code } from "../../../../src/errors.js";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import zlib from "node:zlib";
import { BlobInput, type GrowingBlob } from "../../../../src/images/unpack/blob-input.js";
import { checkRatio, formatBytes, Meter } from "../../../../src/images/unpack/budget.js";
import { DEFAULT_APPLY_LIMITS, type ApplyLimits } from "../../../../src/images/unpack/limits.js";
import { UnpackPool } from "../../../../src/images/unpack/pool.js";
import { buildTar, tempDir } from "../../../fixtures/layer-kit.js";

/** A blob already downloaded in full. */
async function done(file: string, bytes: Buffer): Promise<GrowingBlob> {
  await fsp.writeFile(file, bytes);
  return {
    readable: bytes.length, state: "done", error: undefined,
    on: () => undefined, off: () => undefined, openFile: () => fsp.open(file, "r"),
  };
}

const limits: ApplyLimits = { ...DEFAULT_APPLY_LIMITS, maxCompressionRatio: 100, compressionRatioFloor: 4 * 1024 * 1024 };

for (const [compression, pack] of [["gzip", zlib.gzipSync], ["zstd", zlib.zstdCompressSync]] as const) {
  test(`a ${compression} bomb is refused past the floor; an ordinary ${compression} layer passes`, async (t) => {
    const pool = new UnpackPool(1, 1000);
    t.after(() => pool.close());
    const dir = await tempDir(t);
    const bomb = pack(await buildTar([{ name: "zeros", data: Buffer.alloc(64 * 1024 * 1024) }]));
    const root = path.join(dir, "bomb");
    await assert.rejects(
      pool.run(new BlobInput(await done(path.join(dir, "b1"), bomb), compression, 1e12, "layer 1 of x"), { root, lowers: [], limits, what: "layer 1 of x" }),
      (err: Error & { code?: string }) => {
        assert.match(err.message, /^layer 1 of x inflates past 100:1 after 4\.\d MiB \(from [\d.]+ (bytes|KiB)\) \(images\.max_compression_ratio\); raise the key if this image is genuine$/);
        assert.equal(err.code, Code.RESOURCE_EXHAUSTED);
        return true;
      },
    );
    // Random data with some text: about 2:1, far from any guard.
    const body = Buffer.concat([randomBytes(3 * 1024 * 1024), Buffer.from("text ".repeat(600_000))]);
    const ok = pack(await buildTar([{ name: "data", data: body }]));
    const res = await pool.run(new BlobInput(await done(path.join(dir, "b2"), ok), compression, 1e12, "layer 2 of x"), {
      root: path.join(dir, "ok"), lowers: [], limits, what: "layer 2 of x",
    });
    assert.ok(res.size > body.length);
  });
}

test("checkRatio and the meter: the floor, the ratio, the layer and the image budgets, named with their keys", () => {
  assert.doesNotThrow(() => checkRatio("l", 1000, 1, 100, 1000), "at the floor: not yet");
  assert.doesNotThrow(() => checkRatio("l", 2000, 20, 100, 1000), "exactly at the ratio");
  assert.throws(() => checkRatio("l", 2001, 20, 100, 1000), /l inflates past 100:1 after 2\.0 KiB \(from 20 bytes\) \(images\.max_compression_ratio\)/);
  assert.equal(formatBytes(10 * 1024 ** 3), "10.0 GiB");
  const m = new Meter({
    root: "/x", lowers: [], what: "layer 2 of 2 (sha256:ab) of reg/img",
    limits: { ...DEFAULT_APPLY_LIMITS, maxInodes: 10 },
    image: { max: { bytes: 100, entries: 100, inodes: 100 }, used: { bytes: 60, entries: 0, inodes: 0 } },
  });
  m.add("inodes", 10);
  assert.throws(() => m.add("inodes", 1), /layer 2 of 2 \(sha256:ab\) of reg\/img unpacks to more than 10 inodes \(images\.max_layer_inodes\); raise the key/);
  m.add("bytes", 40);
  assert.throws(
    () => m.add("bytes", 1),
    /takes its image past 100 bytes in all \(the layers below use 60 bytes\) \(images\.max_image_bytes\)/,
  );
});
