// The layer applier's entry point: one OCI/Docker layer tar into its own directory (one overlay
// lower per layer), safely against hostile input, returning the DiffID of the same bytes.
import type { Readable } from "node:stream";
import { logger } from "../../util/log.js";
import { BlobInput } from "./blob-input.js";
import { DEFAULT_APPLY_LIMITS, type ApplyLimits, type ApplyResult, type ApplyStats, type ImageBudget } from "./limits.js";
import { unpackPool } from "./pool.js";

export { DEFAULT_APPLY_LIMITS, DEFAULT_IMAGE_MAX, type ApplyLimits, type ApplyResult, type ApplyStats, type ImageBudget, type Usage3 } from "./limits.js";
export { BlobInput, type GrowingBlob } from "./blob-input.js";

const log = logger("unpack");

export interface ApplyOptions {
  /** The layer's directory; created if missing. Fastest (no lstat) when it starts empty. */
  root: string;
  /** Lower layer directories, topmost first, for implicit parents' attributes. */
  lowers: string[];
  limits?: Partial<ApplyLimits>;
  /** The image's budget (its totals and what the layers below used), when applied for an image. */
  image?: ImageBudget;
  /** Names the layer in budget errors (default "layer"). */
  what?: string;
}

/**
 * Reads an uncompressed layer tar (or a compressed blob file, decompressed in the worker) and
 * applies it under opts.root, in an unpack worker thread.
 * Never writes outside opts.root. On failure it throws only once nothing it started is still
 * running; the caller removes the half-made directory.
 */
export async function applyLayer(input: Readable | BlobInput, opts: ApplyOptions): Promise<ApplyResult & ApplyStats> {
  const limits: ApplyLimits = { ...DEFAULT_APPLY_LIMITS, ...opts.limits };
  const started = performance.now();
  const what = opts.what ?? (input instanceof BlobInput ? input.what : "layer");
  const out = await unpackPool().run(input, {
    root: opts.root, lowers: [...opts.lowers], limits, what, ...(opts.image ? { image: opts.image } : {}),
  });
  for (const w of out.warnings) log.warn({ root: opts.root }, w);
  log.debug(
    { root: opts.root, diffId: out.diffId, size: out.size, entries: out.entries, inodes: out.inodes, spawns: out.spawns, ms: Math.round(performance.now() - started) },
    "layer applied",
  );
  return out;
}
