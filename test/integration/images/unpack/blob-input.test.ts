// Blob inputs: the worker reads a blob file only as far as the download says it is written,
// decompresses it itself, finishes only after the digest matched, and fails with the cause.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import fsp from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import zlib from "node:zlib";
import { BlobInput, type GrowingBlob } from "../../../../src/images/unpack/blob-input.js";
import { DEFAULT_APPLY_LIMITS } from "../../../../src/images/unpack/limits.js";
import { UnpackPool } from "../../../../src/images/unpack/pool.js";
import { buildTar, sha256, tempDir } from "../../../fixtures/layer-kit.js";

/** A download written to `file` in steps; `finish` decides how it ends. */
class FakeDownload extends EventEmitter implements GrowingBlob {
  readable = 0;
  state: "running" | "done" | "failed" = "running";
  error: Error | undefined;
  constructor(readonly file: string) {
    super();
  }
  openFile(): Promise<fsp.FileHandle> {
    return fsp.open(this.file, "r");
  }
  async write(bytes: Buffer, step: number): Promise<void> {
    for (let at = 0; at < bytes.length; at += step) {
      await fsp.appendFile(this.file, bytes.subarray(at, at + step));
      this.readable = Math.min(bytes.length, at + step);
      this.emit("progress");
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  settle(error?: Error): void {
    this.state = error ? "failed" : "done";
    this.error = error;
    this.emit("progress");
  }
}

async function setup(t: import("node:test").TestContext): Promise<{ pool: UnpackPool; dir: string }> {
  const pool = new UnpackPool(1, 1000);
  t.after(() => pool.close());
  const dir = await tempDir(t);
  await fsp.writeFile(path.join(dir, "blob"), "");
  return { pool, dir };
}

const job = (root: string) => ({ root, lowers: [], limits: DEFAULT_APPLY_LIMITS, what: "layer" });

for (const [compression, pack] of [
  ["gzip", (b: Buffer) => zlib.gzipSync(b)],
  ["zstd", (b: Buffer) => zlib.zstdCompressSync(b)],
  ["none", (b: Buffer) => b],
] as const) {
  test(`a ${compression} blob is applied as it lands and only finishes after the digest matched`, async (t) => {
    const { pool, dir } = await setup(t);
    const tarball = await buildTar([{ name: "a/big", data: Buffer.alloc(3 * 1024 * 1024, 7) }, { name: "b", data: "hello" }]);
    const dl = new FakeDownload(path.join(dir, "blob"));
    const applying = pool.run(new BlobInput(dl, compression, DEFAULT_APPLY_LIMITS.maxBytes, "layer 1"), job(path.join(dir, "root")));
    let settled = false;
    void applying.finally(() => (settled = true)).catch(() => {});
    await dl.write(pack(tarball), 100_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, "no outcome before the download is verified");
    dl.settle();
    const out = await applying;
    assert.equal(out.diffId, sha256(tarball));
    assert.equal(await fsp.readFile(path.join(dir, "root/b"), "utf8"), "hello");
  });
}

test("a failed download fails the apply with the download's error; the worker stays usable", async (t) => {
  const { pool, dir } = await setup(t);
  const dl = new FakeDownload(path.join(dir, "blob"));
  const applying = pool.run(new BlobInput(dl, "gzip", DEFAULT_APPLY_LIMITS.maxBytes, "layer 1"), job(path.join(dir, "r1")));
  await dl.write(zlib.gzipSync(await buildTar([{ name: "x", data: Buffer.alloc(1 << 20) }])).subarray(0, 2000), 1000);
  const cause = new Error("layer 1: downloaded content has the wrong digest");
  dl.settle(cause);
  await assert.rejects(applying, (err) => err === cause);

  const tarball = await buildTar([{ name: "ok", data: "fine" }]);
  await fsp.writeFile(path.join(dir, "blob2"), zlib.gzipSync(tarball));
  const done = new FakeDownload(path.join(dir, "blob2"));
  done.readable = (await fsp.stat(done.file)).size;
  done.state = "done";
  const out = await pool.run(new BlobInput(done, "gzip", DEFAULT_APPLY_LIMITS.maxBytes, "layer 2"), job(path.join(dir, "r2")));
  assert.equal(out.diffId, sha256(tarball));
});

test("corrupt data, a bomb and destroy() are refused with errors naming the layer", async (t) => {
  const { pool, dir } = await setup(t);
  const at = async (name: string, bytes: Buffer): Promise<FakeDownload> => {
    const d = new FakeDownload(path.join(dir, name));
    await fsp.writeFile(d.file, bytes);
    d.readable = bytes.length;
    d.state = "done";
    return d;
  };
  await assert.rejects(
    pool.run(new BlobInput(await at("bad", Buffer.from("not gzip at all")), "gzip", 1e9, "layer 3 of x"), job(path.join(dir, "r3"))),
    /layer 3 of x is not valid gzip data: incorrect header check/,
  );
  const bomb = zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024));
  await assert.rejects(
    pool.run(new BlobInput(await at("bomb", bomb), "gzip", 10 * 1024 * 1024, "layer 4"), job(path.join(dir, "r4"))),
    /layer 4 unpacks to more than 10\.0 MiB \(images\.max_layer_bytes\)/,
  );
  const slow = new FakeDownload(path.join(dir, "blob"));
  const input = new BlobInput(slow, "gzip", 1e9, "layer 5");
  const applying = pool.run(input, job(path.join(dir, "r5")));
  await slow.write(zlib.gzipSync(await buildTar([{ name: "y", data: Buffer.alloc(1 << 20) }])).subarray(0, 5000), 1000);
  const stop = new Error("pull cancelled");
  input.destroy(stop);
  await assert.rejects(applying, (err) => err === stop);
});
