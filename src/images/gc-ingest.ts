// Garbage collection of the content store's ingest directory: .partial files of downloads no
// pull is running (after an idle time that lets a retry resume them) and orphaned temp files.
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe } from "../errors.js";
import { logger } from "../util/log.js";
import type { ContentStore } from "./content/store.js";

const log = logger("images-gc");

/** A .partial untouched this long, with no pull writing it, is abandoned (a retry within it resumes). */
export const PARTIAL_IDLE_MS = 3600_000;
const PARTIAL = /^([a-z0-9]+)-([0-9a-f]+)\.partial$/;

export interface CollectOptions {
  /** Drop every .partial no pull is writing, however recent (the disk is full). */
  idlePartials?: boolean;
}

/**
 * Removes what no running pull or put writes. Each check and its unlink run synchronously, so a
 * download or put starting meanwhile cannot have its file removed under it.
 */
export function sweepIngest(content: ContentStore, opts: CollectOptions = {}, now = Date.now()): number {
  let names: string[];
  try {
    names = readdirSync(content.paths.ingest);
  } catch (err) {
    log.warn({ dir: content.paths.ingest, err: describe(err) }, "cannot list the ingest directory");
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const path = join(content.paths.ingest, name);
    const m = PARTIAL.exec(name);
    let why: string;
    if (m) {
      if (content.downloading(`${m[1]}:${m[2]}`)) continue;
      let age: number;
      try {
        age = now - statSync(path).mtimeMs;
      } catch {
        continue; // renamed into place or removed meanwhile
      }
      if (!opts.idlePartials && age < PARTIAL_IDLE_MS) continue;
      why = opts.idlePartials ? "partial download of no running pull (disk full)" : "abandoned partial download";
    } else if (name.endsWith(".tmp")) {
      if (content.writing(name)) continue;
      why = "temp file of no running write";
    } else {
      why = "unknown file in the ingest directory";
    }
    try {
      rmSync(path, { force: true, recursive: true });
      removed++;
      log.info({ path, why }, "image GC removed an ingest leftover");
    } catch (err) {
      log.warn({ path, err: describe(err) }, "cannot remove an ingest leftover");
    }
  }
  return removed;
}
