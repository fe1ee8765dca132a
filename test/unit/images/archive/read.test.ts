// Reading an image archive keeps its JSON documents in memory: their total is capped, so a
// hostile archive of thousands of "<id>.json" entries is refused instead of filling the daemon.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { BerthError, Code } from "../../../../src/errors.js";
import { MAX_DOCS_TOTAL_BYTES, readArchive } from "../../../../src/images/archive/read.js";
import { ContentStore } from "../../../../src/images/content/store.js";

async function store(t: { after: (fn: () => Promise<void>) => void }): Promise<ContentStore> {
  const dir = await mkdtemp(join(tmpdir(), "berth-archive-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = new ContentStore(dir);
  await s.init();
  return s;
}

/** A tar of `count` JSON documents of `size` bytes each, named by `name(i)`. */
function archive(count: number, size: number, name: (i: number) => string): tar.Pack {
  const pack = tar.pack();
  const doc = Buffer.alloc(size, 0x20);
  void (async () => {
    for (let i = 0; i < count; i++) {
      await new Promise<void>((resolve, reject) => pack.entry({ name: name(i), size }, doc, (err) => (err ? reject(err) : resolve())));
    }
    pack.finalize();
  })().catch(() => {}); // the reader gave up: the pack is destroyed
  return pack;
}

const hex = (i: number): string => i.toString(16).padStart(64, "0");
const DOC = 3 << 20; // under the 4 MiB cap on one document

test("archive JSON documents past the total cap are refused with the cap named", async (t) => {
  const s = await store(t);
  const count = Math.floor(MAX_DOCS_TOTAL_BYTES / DOC) + 1;
  await assert.rejects(readArchive(Readable.from(archive(count, DOC, (i) => `${hex(i)}.json`)), s, () => {}), (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.match(err.message, new RegExp(`image archive: its JSON documents .* total more than ${MAX_DOCS_TOTAL_BYTES} bytes at [0-9a-f]{64}\\.json; refusing it`));
    return true;
  });
  assert.deepEqual(await s.list(), [], "nothing stored");
});

test("a document repeated under one name counts once (the later copy replaces the earlier)", async (t) => {
  const s = await store(t);
  const count = Math.floor(MAX_DOCS_TOTAL_BYTES / DOC) + 2;
  const got = await readArchive(Readable.from(archive(count, DOC, () => "manifest.json")), s, () => {});
  assert.equal(got.docs.size, 1);
  assert.equal(got.docs.get("manifest.json")?.length, DOC);
});
