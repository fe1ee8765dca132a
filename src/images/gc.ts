// Garbage collection of image data: layers, blobs and ingest leftovers that no image references
// and nothing in flight (a pull, an import, a container's rootfs) uses are deleted. One at a time.
import { describe } from "../errors.js";
import { logger } from "../util/log.js";
import type { ContentStore } from "./content/store.js";
import { sweepIngest, type CollectOptions } from "./gc-ingest.js";
import { mountedLayerIds } from "./layers/mounted.js";
import type { LayerStore } from "./layers/store.js";
import type { Leases } from "./leases.js";
import type { ImageRecord, ImageStore } from "./store.js";

const log = logger("images-gc");

/** Every blob an image needs kept: manifest, indexes, config, layers. */
export function blobsOf(img: ImageRecord): string[] {
  return [img.id, img.manifestDigest, ...img.indexDigests, ...img.layers.map((l) => l.digest)];
}

export class Collector {
  private running: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly sweepers: (() => Promise<void>)[] = [];

  constructor(
    private readonly images: ImageStore,
    private readonly layers: LayerStore,
    private readonly content: ContentStore,
    private readonly blobLeases: Leases,
  ) {}

  /** Runs a collection after any running one (so a caller sees its own removal collected). */
  collect(opts: CollectOptions = {}): Promise<void> {
    this.running = this.running.then(() => this.once(opts)).catch((err: unknown) => log.warn({ err: describe(err) }, "image GC failed"));
    return this.running;
  }

  /** Adds a clean-up (another service's leftovers) run after each collection. */
  addSweeper(sweep: () => Promise<void>): void {
    this.sweepers.push(sweep);
  }

  /** Collects every `intervalMs` (config images.gc_interval); 0 stops the schedule. */
  schedule(intervalMs: number): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.collect(), intervalMs);
    this.timer.unref();
  }

  private async once(opts: CollectOptions): Promise<void> {
    // References are recomputed whenever the image store changed during the awaits below: a pull
    // that commits meanwhile releases its leases right after, and its data must not go.
    let version = -1;
    let chains = new Set<string>();
    let blobs = new Set<string>();
    const refresh = (): void => {
      if (version === this.images.version) return;
      version = this.images.version;
      chains = new Set();
      blobs = new Set();
      for (const img of this.images.list()) {
        for (const l of img.layers) chains.add(l.chainId);
        for (const b of blobsOf(img)) blobs.add(b);
      }
    };
    let layers = 0;
    let removedBlobs = 0;
    const mounted = await mountedLayerIds();
    for (const l of this.layers.all()) {
      refresh();
      if (chains.has(l.chainId) || this.layers.inUse(l.chainId)) continue;
      if (mounted.has(l.id)) {
        log.info({ chainId: l.chainId, id: l.id }, "layer is unreferenced but still mounted; keeping it");
        continue;
      }
      if (await this.layers.remove(l.chainId)) {
        layers++;
        log.info({ chainId: l.chainId, id: l.id }, "image GC removed an unreferenced layer");
      }
    }
    for (const b of await this.content.list()) {
      refresh();
      if (blobs.has(b.digest) || this.blobLeases.has(b.digest) || this.content.downloading(b.digest)) continue;
      this.content.deleteSync(b.digest);
      removedBlobs++;
      log.info({ digest: b.digest, size: b.size }, "image GC removed an unreferenced blob");
    }
    const leftovers = sweepIngest(this.content, opts);
    if (layers || removedBlobs || leftovers) log.info({ layers, blobs: removedBlobs, leftovers }, "image GC done");
    for (const sweep of this.sweepers) await sweep();
  }
}
