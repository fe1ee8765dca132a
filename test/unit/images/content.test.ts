// The content store's download path without a network: verification, in-flight dedup, Range
// resume after a cut and across attempts, servers that ignore Range, overflow, and abort.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { BerthError, Code } from "../../../src/errors.js";
import { ContentStore } from "../../../src/images/content/store.js";
import type { BlobOpener } from "../../../src/images/content/ingest.js";
import { setLogLevel } from "../../../src/util/log.js";

setLogLevel("silent");

const digestOf = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function store(t: { after: (fn: () => Promise<void>) => void }): Promise<ContentStore> {
  const dir = await mkdtemp(join(tmpdir(), "berth-content-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = new ContentStore(dir);
  await s.init();
  return s;
}

/** Serves `data` from an offset in 64 KiB chunks; `cutAfter` bytes into a response, fails with `err`. */
function server(data: Buffer, opts: { cutAfter?: number; err?: BerthError; ignoreRange?: boolean; times?: number } = {}) {
  const offsets: number[] = [];
  let failuresLeft = opts.times ?? 1;
  const open: BlobOpener = async (offset) => {
    offsets.push(offset);
    const start = opts.ignoreRange ? 0 : offset;
    const fail = opts.cutAfter !== undefined && failuresLeft-- > 0;
    const stream = Readable.from((async function* () {
      let sent = 0;
      for (let o = start; o < data.length; o += 65536) {
        const chunk = data.subarray(o, Math.min(data.length, o + 65536));
        if (fail && sent + chunk.length > opts.cutAfter!) {
          yield chunk.subarray(0, opts.cutAfter! - sent);
          throw opts.err ?? new BerthError(Code.UNAVAILABLE, "the connection closed before the body was complete");
        }
        sent += chunk.length;
        yield chunk;
      }
    })());
    return { stream, offset: start };
  };
  return { open, offsets };
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test("a download is verified, renamed into place, and followers read it whole", async (t) => {
  const s = await store(t);
  const data = randomBytes(300_000);
  const digest = digestOf(data);
  const srv = server(data);
  const ing = await s.ingest(digest, data.length, "blob", srv.open);
  const same = await s.ingest(digest, data.length, "blob", srv.open);
  assert.equal(same, ing, "concurrent requests share one download");
  const followed = readAll(ing.stream());
  await ing.done;
  assert.deepEqual(await followed, data);
  assert.deepEqual(srv.offsets, [0]);
  assert.deepEqual(await readFile(s.path(digest)), data);
  assert.equal(existsSync(join(s.paths.ingest, `sha256-${digest.slice(7)}.partial`)), false);
  const again = await s.ingest(digest, data.length, "blob", srv.open);
  assert.equal(again.state, "done", "a stored blob is not downloaded again");
  assert.deepEqual(await readAll(again.stream()), data);
});

test("a cut connection resumes with the offset reached; a server ignoring Range is handled", async (t) => {
  const s = await store(t);
  const data = randomBytes(500_000);
  const digest = digestOf(data);
  const srv = server(data, { cutAfter: 200_000 });
  const ing = await s.ingest(digest, data.length, "blob", srv.open);
  await ing.done;
  assert.deepEqual(srv.offsets, [0, 200_000]);
  assert.deepEqual(await readFile(s.path(digest)), data);

  const s2 = await store(t);
  const srv2 = server(data, { cutAfter: 100_000, ignoreRange: true });
  const ing2 = await s2.ingest(digest, data.length, "blob", srv2.open);
  const followed = readAll(ing2.stream());
  await ing2.done;
  assert.deepEqual(srv2.offsets, [0, 100_000]);
  assert.deepEqual(await followed, data);
});

test("a stall keeps the .partial; the next attempt re-hashes it and resumes with Range", async (t) => {
  const s = await store(t);
  const data = randomBytes(400_000);
  const digest = digestOf(data);
  const stall = new BerthError(Code.DEADLINE_EXCEEDED, "no data from the registry for 500 ms");
  const srv = server(data, { cutAfter: 150_000, err: stall });
  const ing = await s.ingest(digest, data.length, "blob", srv.open);
  await assert.rejects(ing.done, (e: BerthError) => e.code === Code.DEADLINE_EXCEEDED);
  const partial = join(s.paths.ingest, `sha256-${digest.slice(7)}.partial`);
  assert.equal((await readFile(partial)).length, 150_000);
  const srv2 = server(data);
  const retry = await s.ingest(digest, data.length, "blob", srv2.open);
  assert.notEqual(retry, ing);
  await retry.done;
  assert.equal(retry.resumedFrom, 150_000);
  assert.deepEqual(srv2.offsets, [150_000]);
  assert.deepEqual(await readFile(s.path(digest)), data);
});

test("wrong bytes are discarded (no partial kept); too many bytes are refused", async (t) => {
  const s = await store(t);
  const data = randomBytes(100_000);
  const digest = digestOf(data);
  const bad = Buffer.from(data);
  bad[5] = (bad[5] ?? 0) ^ 1;
  const ing = await s.ingest(digest, data.length, "layer X", server(bad).open);
  const followed = readAll(ing.stream());
  await assert.rejects(ing.done, (e: BerthError) => e.code === Code.DATA_LOSS && /layer X: downloaded content has digest/.test(e.message));
  await assert.rejects(followed, /downloaded content has digest/, "a follower sees the failure, not EOF");
  assert.equal(await s.size(digest), undefined);
  assert.equal(existsSync(join(s.paths.ingest, `sha256-${digest.slice(7)}.partial`)), false);

  const big = await s.ingest(digest, data.length - 10, "layer Y", server(data).open);
  await assert.rejects(big.done, (e: BerthError) => e.code === Code.DATA_LOSS && /more than the 99990 bytes/.test(e.message));

  // A .partial longer than the blob (a different blob's leftovers?) is started over.
  const partial = join(s.paths.ingest, `sha256-${digest.slice(7)}.partial`);
  await writeFile(partial, randomBytes(200_000));
  const fresh = await s.ingest(digest, data.length, "blob", server(data).open);
  await fresh.done;
  assert.deepEqual(await readFile(s.path(digest)), data);
});

test("the last holder letting go aborts the download and keeps the partial; feed() pumps into a writable", async (t) => {
  const s = await store(t);
  const data = randomBytes(2_000_000);
  const digest = digestOf(data);
  let release: () => void = () => {};
  const slow: BlobOpener = async (offset, signal) => {
    const stream = Readable.from((async function* () {
      for (let o = offset; o < data.length; o += 65536) {
        if (o >= 262_144) await new Promise((r) => setTimeout(r, 1000));
        if (signal.aborted) return;
        yield data.subarray(o, o + 65536);
        if (o === 262_144 - 65536) setImmediate(() => release());
      }
    })());
    return { stream, offset };
  };
  const ing = await s.ingest(digest, data.length, "blob", slow);
  const a = ing.hold();
  const b = ing.hold();
  a();
  release = b;
  await assert.rejects(ing.done, (e: BerthError) => e.code === Code.CANCELLED);
  const partial = join(s.paths.ingest, `sha256-${digest.slice(7)}.partial`);
  assert.ok((await readFile(partial)).length >= 65536);

  const got: Buffer[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { got.push(Buffer.from(chunk)); cb(); } });
  const retry = await s.ingest(digest, data.length, "blob", server(data).open);
  retry.feed(sink);
  await new Promise((r) => sink.on("finish", r));
  await retry.done;
  assert.deepEqual(Buffer.concat(got), data, "the pump copies out of its reused buffers in order");
});

test("put and getOrFetch verify digests; getOrFetch shares one fetch", async (t) => {
  const s = await store(t);
  const data = Buffer.from('{"config": true}');
  const digest = digestOf(data);
  await assert.rejects(s.put(digest, Buffer.from("other")), (e: BerthError) => e.code === Code.DATA_LOSS);
  let fetches = 0;
  const fetch = async (): Promise<Buffer> => {
    fetches++;
    await new Promise((r) => setTimeout(r, 20));
    return data;
  };
  const [x, y] = await Promise.all([s.getOrFetch(digest, 1024, fetch), s.getOrFetch(digest, 1024, fetch)]);
  assert.deepEqual(x, data);
  assert.deepEqual(y, data);
  assert.equal(fetches, 1);
  assert.deepEqual(await s.getOrFetch(digest, 1024, fetch), data);
  assert.equal(fetches, 1, "served from the store");
  assert.deepEqual((await s.list()).map((b) => b.digest), [digest]);
  s.deleteSync(digest);
  assert.deepEqual(await s.list(), []);
});

test("a descriptor with a stored blob's digest but another size is refused; the stored blob stays", async (t) => {
  const s = await store(t);
  const data = randomBytes(100_000);
  const d = digestOf(data);
  await s.put(d, data);
  let opened = 0;
  const open: BlobOpener = async () => {
    opened++;
    return { stream: Readable.from([data]), offset: 0 };
  };
  await assert.rejects(s.ingest(d, data.length + 1, "layer 1 of hostile", open), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, Code.DATA_LOSS);
    assert.match(err.message, /layer 1 of hostile: the manifest says 100001 bytes, but the blob with this digest is 100000 bytes/);
    return true;
  });
  assert.equal(opened, 0, "nothing is downloaded");
  assert.deepEqual(await readFile(s.path(d)), data, "the verified blob another image uses is still there");
  const ok = await s.ingest(d, data.length, "layer 1 of good", open);
  assert.equal(ok.state, "done");
});

/** A source that sends `data` up to `upTo` then nothing (the stream stays open until aborted). */
function stalling(data: Buffer, upTo: number) {
  const offsets: number[] = [];
  const open: BlobOpener = async (offset, signal) => {
    offsets.push(offset);
    const stream = Readable.from((async function* () {
      if (upTo > offset) yield data.subarray(offset, upTo);
      await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
    })());
    return { stream, offset };
  };
  return { open, offsets };
}

test("a joined download hands over to the joiner's source when the first one goes silent", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-content-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = new ContentStore(dir, 200); // the lag (5 s by default) shortened; the stall timeout is not involved
  await s.init();
  const data = randomBytes(300_000);
  const digest = digestOf(data);
  const hostile = stalling(data, 100_000);
  const honest = server(data);
  const ing = await s.ingest(digest, data.length, "blob", hostile.open, "registry A");
  const followed = readAll(ing.stream());
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await s.ingest(digest, data.length, "blob", honest.open, "registry B"), ing, "the second pull joins");
  await ing.done;
  assert.deepEqual(hostile.offsets, [0]);
  assert.deepEqual(honest.offsets, [100_000], "the honest source continues where the silent one stopped");
  assert.deepEqual(await followed, data);
  assert.deepEqual(await readFile(s.path(digest)), data);
});

test("a joined download whose first source fails continues from the joiner's source", async (t) => {
  const s = await store(t);
  const data = randomBytes(300_000);
  const digest = digestOf(data);
  let joined: () => void = () => {};
  const joinedP = new Promise<void>((r) => (joined = r));
  const failing: BlobOpener = async (offset) => ({
    offset,
    stream: Readable.from((async function* () {
      yield data.subarray(offset, 50_000);
      await joinedP;
      throw new BerthError(Code.NOT_FOUND, "blob unknown to registry");
    })()),
  });
  const honest = server(data);
  const ing = await s.ingest(digest, data.length, "blob", failing, "registry A");
  await s.ingest(digest, data.length, "blob", honest.open, "registry B");
  joined();
  await ing.done;
  assert.deepEqual(honest.offsets, [50_000]);
  assert.deepEqual(await readFile(s.path(digest)), data);
});

test("wrong bytes from the first source of a joined download: started over from byte 0 with the joiner's source", async (t) => {
  const s = await store(t);
  const data = randomBytes(300_000);
  const digest = digestOf(data);
  const bad = Buffer.from(data);
  bad[10] = (bad[10] ?? 0) ^ 1;
  let joined: () => void = () => {};
  const joinedP = new Promise<void>((r) => (joined = r));
  const liar: BlobOpener = async (offset) => ({
    offset,
    stream: Readable.from((async function* () {
      yield bad.subarray(offset, 100_000);
      await joinedP;
      yield bad.subarray(100_000);
    })()),
  });
  const honest = server(data);
  const ing = await s.ingest(digest, data.length, "blob", liar, "registry A");
  const early = readAll(ing.stream());
  early.catch(() => {}); // asserted below
  await s.ingest(digest, data.length, "blob", honest.open, "registry B");
  const gen = ing.generation;
  const restarted = ing.restartedSince(gen);
  joined();
  await ing.done;
  assert.equal(await restarted, true);
  await assert.rejects(early, (e: BerthError) => e.code === Code.ABORTED && /started over from byte 0/.test(e.message), "a reader of the wrong bytes is stopped");
  assert.deepEqual(honest.offsets, [0]);
  assert.deepEqual(await readAll(ing.stream()), data);
  assert.deepEqual(await readFile(s.path(digest)), data);
});

test("a resumed .partial whose digest does not match is downloaded once more from byte 0", async (t) => {
  const s = await store(t);
  const data = randomBytes(400_000);
  const digest = digestOf(data);
  const poisoned = randomBytes(150_000); // a hostile registry's prefix, left by a cut download
  await writeFile(join(s.paths.ingest, `sha256-${digest.slice(7)}.partial`), poisoned);
  const honest = server(data);
  const ing = await s.ingest(digest, data.length, "blob", honest.open);
  await ing.done;
  assert.equal(ing.resumedFrom, 150_000);
  assert.deepEqual(honest.offsets, [150_000, 0]);
  assert.deepEqual(await readFile(s.path(digest)), data);

  // From one source alone the second mismatch is final.
  const s2 = await store(t);
  await writeFile(join(s2.paths.ingest, `sha256-${digest.slice(7)}.partial`), poisoned);
  const bad = Buffer.from(data);
  bad[300_000] = (bad[300_000] ?? 0) ^ 1;
  const liar = server(bad);
  const ing2 = await s2.ingest(digest, data.length, "layer Z", liar.open);
  await assert.rejects(ing2.done, (e: BerthError) => e.code === Code.DATA_LOSS && /layer Z: downloaded content has digest/.test(e.message));
  assert.deepEqual(liar.offsets, [150_000, 0]);
  assert.equal(existsSync(join(s2.paths.ingest, `sha256-${digest.slice(7)}.partial`)), false);
});

test("getOrFetch: a caller that joined a silent or failing fetch uses its own", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-content-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = new ContentStore(dir, 100);
  await s.init();
  const data = Buffer.from('{"config": 1}');
  const digest = digestOf(data);
  let hang: () => void = () => {};
  const hostile = s.getOrFetch(digest, 1024, () => new Promise<Buffer>((_, reject) => (hang = () => reject(new Error("stalled")))));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(await s.getOrFetch(digest, 1024, async () => data), data);
  hang();
  await assert.rejects(hostile, /stalled/);

  const d2 = digestOf(Buffer.from("{}"));
  const failing = s.getOrFetch(d2, 1024, async () => {
    await new Promise((r) => setTimeout(r, 30));
    throw new BerthError(Code.NOT_FOUND, "blob unknown");
  });
  const failed = assert.rejects(failing, /blob unknown/);
  // Let the failing fetch register first (both calls stat the store before either registers).
  await new Promise((r) => setTimeout(r, 10));
  const own = s.getOrFetch(d2, 1024, async () => Buffer.from("{}"));
  await failed;
  assert.deepEqual(await own, Buffer.from("{}"));
});

test("a joined download hands over when the first source drips bytes just often enough to dodge a stall", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-content-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = new ContentStore(dir, 300);
  await s.init();
  const data = randomBytes(400_000);
  const digest = digestOf(data);
  const drip: BlobOpener = async (offset, signal) => ({
    offset,
    stream: Readable.from((async function* () {
      for (let o = offset; o < data.length && !signal.aborted; o += 512) {
        yield data.subarray(o, o + 512);
        await new Promise((r) => setTimeout(r, 20));
      }
    })()),
  });
  const honest = server(data);
  const ing = await s.ingest(digest, data.length, "blob", drip, "registry A");
  await new Promise((r) => setTimeout(r, 100));
  await s.ingest(digest, data.length, "blob", honest.open, "registry B");
  await ing.done;
  assert.equal(honest.offsets.length, 1);
  assert.ok(honest.offsets[0]! > 0 && honest.offsets[0]! < data.length, `continued from ${honest.offsets[0]}`);
  assert.deepEqual(await readFile(s.path(digest)), data);
});

test("the first pull letting go while a second one joins does not cancel the download under the joiner", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-content-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = new ContentStore(dir, 200);
  await s.init();
  const data = randomBytes(300_000);
  const digest = digestOf(data);
  const ing = await s.ingest(digest, data.length, "blob", stalling(data, 50_000).open, "registry A");
  const first = ing.hold();
  const joining = s.ingest(digest, data.length, "blob", server(data).open, "registry B");
  first(); // the first pull fails (say, on its own registry's garbage) in the same turn
  const joined = await joining;
  const second = joined.hold();
  assert.equal(joined, ing);
  await ing.done;
  second();
  assert.deepEqual(await readFile(s.path(digest)), data);
});
