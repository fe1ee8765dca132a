// The unpack worker pool: more layers than workers queue up, a failed or aborted layer leaves
// its worker usable, and the daemon thread gets a BerthError with the worker's message.
import { Code } from "../../../../src/errors.js";
import assert from "node:assert/strict";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { DEFAULT_APPLY_LIMITS } from "../../../../src/images/unpack/limits.js";
import { UnpackPool } from "../../../../src/images/unpack/pool.js";
import { buildTar, sha256, streamOf, tempDir } from "../../../fixtures/layer-kit.js";

test("six layers on a pool of two all apply, in parallel where they can", async (t) => {
  const pool = new UnpackPool(2, 1000);
  t.after(() => pool.close());
  const base = await tempDir(t);
  const tars = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => buildTar([{ name: `f${i}`, data: `layer ${i}` }])));
  const results = await Promise.all(
    tars.map((tb, i) => pool.run(streamOf(tb), { root: path.join(base, `l${i}`), lowers: [], limits: DEFAULT_APPLY_LIMITS, what: "layer" })),
  );
  results.forEach((r, i) => assert.equal(r.diffId, sha256(tars[i] ?? Buffer.alloc(0))));
  assert.equal(await fsp.readFile(path.join(base, "l5/f5"), "utf8"), "layer 5");
});

test("a failing layer and a failing input leave the worker ready for the next layer", async (t) => {
  const pool = new UnpackPool(1, 1000);
  t.after(() => pool.close());
  const base = await tempDir(t);
  const job = (name: string) => ({ root: path.join(base, name), lowers: [], limits: DEFAULT_APPLY_LIMITS, what: "layer" });
  await assert.rejects(pool.run(streamOf(await buildTar([{ name: "../x", data: "x" }])), job("bad")), (err: Error & { code?: string }) => {
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.match(err.message, /escapes the layer root/);
    return true;
  });
  const half = (await buildTar([{ name: "big", data: Buffer.alloc(1024 * 1024) }])).subarray(0, 300 * 1024);
  const broken = Readable.from(
    (async function* () {
      yield half;
      throw new Error("connection reset");
    })(),
  );
  await assert.rejects(pool.run(broken, job("aborted")), /reading the layer failed: connection reset/);
  const good = await buildTar([{ name: "ok", data: "fine" }]);
  assert.equal((await pool.run(streamOf(good), job("good"))).diffId, sha256(good));
});
