// The applier proper: parses an uncompressed layer tar from a stream of chunks, hashes it into
// the DiffID, enforces the caps and budgets, and applies each entry. Runs inside an unpack worker.
import { createHash } from "node:crypto";
import type { EventEmitter } from "node:events";
import fs from "node:fs";
import tar, { type Header } from "tar-stream";
import { invalid } from "../../errors.js";
import { Meter } from "./budget.js";
import { toEntry } from "./entry.js";
import { readUmask } from "./fsops.js";
import type { ApplyJob, ApplyResult, ApplyStats } from "./limits.js";
import { capturePax } from "./pax.js";
import { spawnCount } from "./tools.js";
import { LayerTree } from "./tree.js";
import { LayerWriter } from "./writer.js";

/**
 * Applies the tar in `chunks` under job.root. Rejects with the first error; by then every
 * filesystem call it made has returned (they are synchronous), so nothing runs afterwards.
 */
export async function applyTar(chunks: AsyncIterable<Buffer>, job: ApplyJob): Promise<ApplyResult & ApplyStats> {
  const { limits } = job;
  const spawns0 = spawnCount();
  const meter = new Meter(job);
  const warnings: string[] = [];
  const warn = (w: string): void => {
    if (warnings.length < 100) warnings.push(w);
  };
  fs.mkdirSync(job.root, { recursive: true });
  const rootStat = fs.lstatSync(job.root);
  if (!rootStat.isDirectory()) throw invalid(`layer root "${job.root}" is not a directory`);
  const tree = new LayerTree(job.root, fs.readdirSync(job.root).length === 0, rootStat.mode);
  const lowers = job.lowers.map((l) => new LayerTree(l, false));
  const writer = new LayerWriter(tree, lowers, limits, readUmask(), meter, warn);

  const ex = tar.extract();
  const pax = capturePax(ex, limits.maxHeaderBytes, warn);
  const state: { failure: { error: unknown } | null } = { failure: null };
  const fail = (error: unknown): void => {
    state.failure ??= { error };
  };
  let current: Promise<void> = Promise.resolve();
  ex.on("entry", (header: Header, data: AsyncIterable<unknown>, next: (err?: Error | null) => void) => {
    // A refused entry (a bad name, type or field) leaves its data unread, and next(err) destroys
    // that stream with the error: with no listener the worker died of it ("unpack worker exited",
    // Internal) whenever the entry's data ran past the current chunk. Found by the tar fuzz target.
    (data as unknown as EventEmitter).on("error", () => undefined);
    const records = pax.take();
    current = (async () => {
      meter.add("entries", 1);
      // tar-stream yields Buffers; its types say unknown.
      await writer.entry(toEntry(header, records, warn, limits.maxXattrsPerEntry, job.what), data as AsyncIterable<Buffer>);
    })().then(
      () => next(),
      (err: unknown) => {
        fail(err);
        next(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
  ex.on("error", fail);
  const closed = new Promise<void>((resolve) => ex.once("close", resolve));

  const hash = createHash("sha256");
  try {
    for await (const chunk of chunks) {
      if (state.failure) break;
      meter.add("bytes", chunk.length);
      hash.update(chunk);
      if (!ex.write(chunk)) await drainedOrClosed(ex);
    }
    if (!state.failure) {
      ex.end(null);
      await closed;
    }
    if (state.failure) throw state.failure.error;
    writer.finish();
  } catch (err) {
    ex.destroy(null);
    await current;
    throw err;
  }
  return {
    diffId: `sha256:${hash.digest("hex")}`, size: meter.bytes, entries: meter.entries, inodes: meter.inodes,
    warnings, spawns: spawnCount() - spawns0,
  };
}

function drainedOrClosed(ex: tar.Extract): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      ex.off("drain", done);
      ex.off("close", done);
      resolve();
    };
    ex.on("drain", done);
    ex.on("close", done);
  });
}
