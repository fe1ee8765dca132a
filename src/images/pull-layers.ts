// The layer half of a pull: downloads run in parallel (registry.max_concurrent_downloads) into
// the content store while layers are applied strictly in order, each following its download.
import { BerthError, Code, describe } from "../errors.js";
import type { ImageContext } from "./context.js";
import type { BlobOpener, Ingest } from "./content/ingest.js";
import { layerTar } from "./layers/tar.js";
import { Semaphore } from "./leases.js";
import type { PullProgress } from "./progress.js";
import type { AuthConfig } from "./registry/auth.js";
import type { Descriptor } from "./registry/manifest.js";
import type { BlobInput, Usage3 } from "./unpack/apply.js";
import { checkImage } from "./unpack/budget.js";
import { withSpan } from "../trace/span.js";

export interface LayerPlan {
  desc: Descriptor;
  diffId: string;
  chainId: string;
}

export interface FetchLayers {
  /** Repository to fetch from (canonical name). */
  name: string;
  plans: LayerPlan[];
  progress: PullProgress;
  auth?: AuthConfig;
  signal?: AbortSignal;
  /** Where a missing blob comes from (default: the registry, repository `name`). */
  open?: (p: LayerPlan) => BlobOpener;
}

// Applies of one layer restarted because its download started over (each restart of a
// download retires a source, so this is only a backstop).
const MAX_APPLY_RESTARTS = 8;

const asError = (e: unknown): BerthError =>
  e instanceof BerthError ? e : new BerthError(Code.INTERNAL, describe(e), { cause: e });

/** The error with the layer named first (a stall says which layer stalled). */
function naming(e: unknown, what: string): BerthError {
  const err = asError(e);
  return err.message.startsWith(what) ? err : new BerthError(err.code, `${what}: ${err.message}`, { cause: err });
}

/**
 * Makes sure every layer of `plans` (bottom first) is in the layer store. Fails fast: the first
 * download or apply error stops the rest; downloads no other pull shares are aborted (their
 * .partial files stay for a Range resume). Settles only once nothing it started still runs.
 */
export async function fetchLayers(ctx: ImageContext, req: FetchLayers): Promise<void> {
  const { plans, name, progress } = req;
  const slots = new Semaphore(ctx.maxConcurrentDownloads);
  const holds: (() => void)[] = [];
  let failure: BerthError | undefined;
  let rejectFailed: (e: BerthError) => void = () => {};
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => {});
  const fail = (e: unknown): void => {
    if (failure) return;
    failure = asError(e);
    rejectFailed(failure);
  };
  const onAbort = (): void => fail(req.signal?.reason ?? new BerthError(Code.CANCELLED, `pull of ${name} cancelled`));
  if (req.signal?.aborted) onAbort();
  req.signal?.addEventListener("abort", onAbort, { once: true });
  const what = (i: number): string => `layer ${i + 1} of ${plans.length} (${plans[i]!.desc.digest}) of ${name}`;

  const download = async (p: LayerPlan, i: number): Promise<Ingest> => {
    const { digest, size } = p.desc;
    const slot = await slots.acquire();
    if (failure) {
      slot();
      throw failure;
    }
    let ing: Ingest;
    try {
      ing = await ctx.content.ingest(digest, size, what(i), req.open?.(p) ?? (async (offset, signal) => {
        const b = await ctx.registry.fetchBlob(name, digest, {
          offset, expectedSize: size, signal, ...(req.auth ? { auth: req.auth } : {}),
        });
        return { stream: b.stream, offset: b.offset };
      }), name);
    } catch (e) {
      slot();
      throw e;
    }
    const release = ing.hold();
    holds.push(release);
    if (failure) release(); // the pull failed while this download was being set up
    const onBytes = (): void => progress.bytes(i, ing.readable);
    const onResume = (offset: number): void => progress.layer(i, digest, size, "resuming", offset);
    ing.on("progress", onBytes);
    ing.on("resume", onResume);
    progress.layer(i, digest, size, ing.state === "done" ? "downloaded" : "downloading", ing.readable);
    ing.done.then(
      () => progress.layer(i, digest, size, "downloaded"),
      (e: unknown) => {
        progress.layer(i, digest, size, "failed");
        fail(naming(e, what(i)));
      },
    ).finally(() => {
      slot();
      ing.off("progress", onBytes);
      ing.off("resume", onResume);
    });
    return ing;
  };

  const downloads: Promise<Ingest | undefined>[] = plans.map((p, i) => {
    if (ctx.layers.get(p.chainId)) {
      progress.layer(i, p.desc.digest, p.desc.size, "exists");
      return Promise.resolve(undefined);
    }
    progress.layer(i, p.desc.digest, p.desc.size, "waiting");
    const d = download(p, i);
    d.catch((e: unknown) => fail(naming(e, what(i))));
    return d;
  });

  let current: BlobInput | undefined;
  const { limits, imageMax } = ctx.unpack;
  // What the image's layers below the current one unpacked to: the per-image budget's account.
  const used: Usage3 = { bytes: 0, entries: 0, inodes: 0 };
  const account = (i: number, rec: { size: number; entries?: number; inodes?: number }): void => {
    const mine = { bytes: rec.size, entries: rec.entries ?? 0, inodes: rec.inodes ?? 0 };
    checkImage(what(i), used, mine, imageMax);
    used.bytes += mine.bytes;
    used.entries += mine.entries;
    used.inodes += mine.inodes;
  };
  const applyAll = (async () => {
    for (const [i, p] of plans.entries()) {
      const ing = await downloads[i];
      if (failure) throw failure;
      const have = ctx.layers.get(p.chainId);
      if (!ing && have) {
        account(i, have);
        continue;
      }
      if (!ing) continue;
      const chain = plans.slice(0, i).map((x) => x.chainId);
      // The apply reads bytes not yet verified: when the download starts over from byte 0
      // (a resumed or handed-over blob whose digest did not match), they were wrong; apply again.
      for (let attempt = 0; ; attempt++) {
        const gen = ing.generation;
        try {
          const rec = await withSpan("image unpack", { "berth.layer.digest": p.desc.digest, "berth.layer.index": i, "berth.layer.size": p.desc.size }, () => ctx.layers.create({
            chainId: p.chainId, parent: chain[chain.length - 1], diffId: p.diffId, what: what(i),
            lowers: ctx.layers.lowerDirs(chain), limits, image: { max: imageMax, used: { ...used } },
            tar: () => (current = layerTar(ing.follow(), p.desc.mediaType, limits.maxBytes, what(i))),
          }));
          account(i, rec);
          break;
        } catch (e) {
          current = undefined;
          if (failure || attempt >= MAX_APPLY_RESTARTS) throw e;
          if (!(await Promise.race([ing.restartedSince(gen), failed]))) throw e;
        }
      }
      current = undefined;
      progress.layer(i, p.desc.digest, p.desc.size, "done");
    }
  })();

  try {
    await Promise.race([applyAll, failed]);
  } catch (e) {
    fail(e);
    current?.destroy(failure);
    await applyAll.catch(() => {});
    for (const h of holds) h();
    await Promise.allSettled(downloads.map(async (d) => (await d)?.done));
    throw failure;
  } finally {
    req.signal?.removeEventListener("abort", onAbort);
    for (const h of holds) h();
  }
}
