// What the image service's operations (pull, remove, import, status) share: the stores, the
// registry client, the progress feed and the leases that keep in-flight work from GC.
import type { ContentStore } from "./content/store.js";
import type { CollectOptions } from "./gc-ingest.js";
import type { LayerStore } from "./layers/store.js";
import type { Leases } from "./leases.js";
import type { ApplyLimits, Usage3 } from "./unpack/apply.js";
import type { ProgressFeed } from "./progress.js";
import type { RegistryClient } from "./registry/client.js";
import type { ImageStore } from "./store.js";

export interface ImageContext {
  registry: RegistryClient;
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
  progress: ProgressFeed;
  /** Blob digests in use by in-flight pulls and imports. */
  blobLeases: Leases;
  maxConcurrentDownloads: number;
  /** Unpack limits per layer and budget per image (config images.max_*). */
  unpack: { limits: ApplyLimits; imageMax: Usage3 };
  /** Normalised "name:tag" of images.sandbox_image, or "" when none. */
  sandboxTag: string;
  /** Deletes layers, blobs and ingest leftovers that no image (and nothing in flight) references. */
  gc(opts?: CollectOptions): Promise<void>;
}
