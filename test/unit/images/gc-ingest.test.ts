// The ingest sweep of image GC: abandoned .partial files and orphaned temp files go; a download
// or put that is running keeps its file, even when the sweep asks for every idle partial.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { ContentStore } from "../../../src/images/content/store.js";
import type { BlobOpener } from "../../../src/images/content/ingest.js";
import { PARTIAL_IDLE_MS, sweepIngest } from "../../../src/images/gc-ingest.js";
import { setLogLevel } from "../../../src/util/log.js";

setLogLevel("silent");

const digestOf = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const partialOf = (s: ContentStore, digest: string): string => join(s.paths.ingest, `sha256-${digest.slice(7)}.partial`);

async function store(t: { after: (fn: () => Promise<void>) => void }): Promise<ContentStore> {
  const dir = await mkdtemp(join(tmpdir(), "berth-gc-ingest-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = new ContentStore(dir);
  await s.init();
  return s;
}

/** A gate: `wait` resolves once `open()` is called. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

test("abandoned partials, orphaned temp files and unknown files are removed; a recent partial is kept for a resume", async (t) => {
  const s = await store(t);
  const [old, recent] = [randomBytes(100), randomBytes(100)].map(digestOf) as [string, string];
  await writeFile(partialOf(s, old), "x");
  await writeFile(partialOf(s, recent), "y");
  const past = (Date.now() - PARTIAL_IDLE_MS - 60_000) / 1000;
  await utimes(partialOf(s, old), past, past);
  await writeFile(join(s.paths.ingest, "0123456789abcdef.tmp"), "t");
  await writeFile(join(s.paths.ingest, "stray"), "s");
  assert.equal(sweepIngest(s), 3);
  assert.equal(existsSync(partialOf(s, old)), false);
  assert.equal(existsSync(partialOf(s, recent)), true, "a retry within the idle time resumes it");
  assert.equal(existsSync(join(s.paths.ingest, "0123456789abcdef.tmp")), false);
  assert.equal(existsSync(join(s.paths.ingest, "stray")), false);
  assert.equal(sweepIngest(s, { idlePartials: true }), 1, "a full disk takes every partial no pull writes");
  assert.equal(existsSync(partialOf(s, recent)), false);
});

test("a running download keeps its partial and a running put keeps its temp file, through every sweep", async (t) => {
  const s = await store(t);
  const data = randomBytes(200_000);
  const digest = digestOf(data);
  const g = gate();
  const started = gate();
  const open: BlobOpener = async (offset) => ({
    offset,
    stream: Readable.from((async function* () {
      yield data.subarray(offset, offset + 1000);
      started.open();
      await g.wait;
      yield data.subarray(offset + 1000);
    })()),
  });
  const ing = await s.ingest(digest, data.length, "blob", open);
  await started.wait;
  await new Promise((r) => setTimeout(r, 50)); // the first chunk reaches the partial

  const blob = randomBytes(50_000);
  const putGate = gate();
  const putStarted = gate();
  const source = Readable.from((async function* () {
    yield blob.subarray(0, 10);
    putStarted.open();
    await putGate.wait;
    yield blob.subarray(10);
  })());
  const put = s.putStream(source, digestOf(blob), 1 << 20, "test blob");
  await putStarted.wait;
  await new Promise((r) => setTimeout(r, 50));

  assert.equal(sweepIngest(s, { idlePartials: true }, Date.now() + 2 * PARTIAL_IDLE_MS), 0, "nothing in use is collected");
  assert.equal(existsSync(partialOf(s, digest)), true);
  g.open();
  putGate.open();
  await ing.done;
  assert.deepEqual(await readFile(s.path(digest)), data);
  assert.equal((await put).digest, digestOf(blob));
  assert.deepEqual(await readFile(s.path(digestOf(blob))), blob);
});
