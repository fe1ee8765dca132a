// Counts what one layer apply spends (bytes, tar entries, inodes) against the layer's and the
// image's budgets, and words a refusal: which layer of which image, which budget, which key.
import { BerthError, Code } from "../../errors.js";
import { IMAGE_KEYS, LIMIT_KEYS, type ApplyJob, type Usage3 } from "./limits.js";

const RAISE = "raise the key if this image is genuine";

/** 1536 → "1.5 KiB"; for messages. */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

const amount = (metric: keyof Usage3, n: number): string =>
  metric === "bytes" ? formatBytes(n) : `${n} ${metric === "entries" ? "tar entries" : "inodes"}`;

/** A refusal by a budget: RESOURCE_EXHAUSTED, naming the layer, the budget and its key. */
export function overBudget(what: string, rule: string, key: string): BerthError {
  return new BerthError(Code.RESOURCE_EXHAUSTED, `${what} ${rule} (${key}); ${RAISE}`);
}

const LAYER_MAX = { bytes: "maxBytes", entries: "maxEntries", inodes: "maxInodes" } as const;

export class Meter implements Usage3 {
  bytes = 0;
  entries = 0;
  inodes = 0;

  constructor(readonly job: ApplyJob) {}

  /** Counts n more of metric; throws once the layer's or the image's budget is exceeded. */
  add(metric: keyof Usage3, n: number): void {
    const now = (this[metric] += n);
    const layerMax = this.job.limits[LAYER_MAX[metric]];
    if (now > layerMax) {
      throw overBudget(this.job.what, `unpacks to more than ${amount(metric, layerMax)}`, LIMIT_KEYS[LAYER_MAX[metric]]);
    }
    const img = this.job.image;
    if (img) checkImageMetric(this.job.what, metric, img.used[metric], now, img.max[metric]);
  }
}

function checkImageMetric(what: string, metric: keyof Usage3, below: number, mine: number, max: number): void {
  if (below + mine <= max) return;
  throw overBudget(what, `takes its image past ${amount(metric, max)} in all (the layers below use ${amount(metric, below)})`, IMAGE_KEYS[metric]);
}

/** Throws when a layer already on disk (`mine`) takes the image (`below` it) past its budget. */
export function checkImage(what: string, below: Usage3, mine: Usage3, max: Usage3): void {
  for (const m of ["bytes", "entries", "inodes"] as const) checkImageMetric(what, m, below[m], mine[m], max[m]);
}

/**
 * The compression-ratio guard, checked as a compressed layer inflates: past `floor` bytes out,
 * more than `ratio` bytes out per byte in is refused (real layers stay far below; bombs do not).
 */
export function checkRatio(what: string, out: number, consumed: number, ratio: number, floor: number): void {
  if (out <= floor || out <= ratio * consumed) return;
  throw overBudget(what, `inflates past ${ratio}:1 after ${formatBytes(out)} (from ${formatBytes(consumed)})`, LIMIT_KEYS.maxCompressionRatio);
}
