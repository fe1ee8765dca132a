// The image service: builds the stores, the registry client and the progress feed from config,
// and offers the operations the CRI ImageService needs (and the layer hooks containers need).
import fs from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config/config.js";
import type { Store } from "../store/db.js";
import { logger } from "../util/log.js";
import type { ImageContext } from "./context.js";
import { ArchiveSocket } from "./archive/socket.js";
import { ContentStore } from "./content/store.js";
import { FsInfo, type FsUsage } from "./fsinfo.js";
import { Collector } from "./gc.js";
import { LayerStore } from "./layers/store.js";
import { Leases } from "./leases.js";
import { ProgressFeed } from "./progress.js";
import { ProgressSocket } from "./progress-socket.js";
import { pullImage } from "./pull.js";
import type { AuthConfig } from "./registry/auth.js";
import { RegistryClient } from "./registry/client.js";
import { RegistryHosts } from "./registry/hosts.js";
import { MAX_CONFIG_BYTES } from "./registry/media-types.js";
import { removeImage, type RemoveResult } from "./remove.js";
import { DEFAULT_APPLY_LIMITS } from "./unpack/apply.js";
import { ImageStore, normalizeRef, type ImageRecord } from "./store.js";
import { verboseInfo, viewOf, type ImageView } from "./view.js";

const log = logger("images");

export interface ImagePaths {
  content: string;
  layers: string;
  /** Containers' writable layers (reported by ImageFsInfo as container_filesystems). */
  containers: string;
  progressSocket: string;
  /** Import/export of image archives (HTTP over a unix socket). */
  archiveSocket: string;
}

export function imagePaths(config: Pick<Config, "root" | "state">): ImagePaths {
  return {
    content: join(config.root, "content"),
    layers: join(config.root, "layers"),
    containers: join(config.root, "containers"),
    progressSocket: join(config.state, "progress.sock"),
    archiveSocket: join(config.state, "images.sock"),
  };
}

/** Config's unpack keys as the applier's limits and the per-image budget. */
function unpackBudgets(u: Config["images"]["unpack"]): ImageContext["unpack"] {
  return {
    limits: {
      ...DEFAULT_APPLY_LIMITS,
      maxBytes: u.maxLayerBytes,
      maxEntries: u.maxLayerEntries,
      maxInodes: u.maxLayerInodes,
      maxCompressionRatio: u.maxCompressionRatio,
      compressionRatioFloor: u.compressionRatioFloor,
      maxXattrsPerEntry: u.maxXattrsPerEntry,
      maxXattrsPerLayer: u.maxLayerXattrs,
    },
    imageMax: { bytes: u.maxImageBytes, entries: u.maxImageEntries, inodes: u.maxImageInodes },
  };
}

export class ImageService {
  readonly ctx: ImageContext;
  readonly paths: ImagePaths;
  private readonly fsInfo: FsInfo;
  private progressSocket: ProgressSocket | undefined;
  private archiveSocket: ArchiveSocket | undefined;
  private readonly collector: Collector;
  private readonly gcIntervalMs: number;

  private constructor(config: Config, store: Store) {
    this.paths = imagePaths(config);
    const registry = new RegistryClient({
      stallTimeoutMs: config.registry.stallTimeoutMs,
      documentDeadlineMs: config.registry.documentDeadlineMs,
      hosts: new RegistryHosts({ configPath: config.registry.configPath, registriesConf: config.registry.registriesConf }),
    });
    const content = new ContentStore(this.paths.content, undefined, config.images.sync);
    const layers = new LayerStore(this.paths.layers, store, config.images.sync);
    const images = new ImageStore(store);
    const blobLeases = new Leases();
    const collector = new Collector(images, layers, content, blobLeases);
    const sandbox = config.images.sandboxImage;
    this.ctx = {
      registry, content, layers, images, blobLeases,
      progress: new ProgressFeed(),
      maxConcurrentDownloads: config.registry.maxConcurrentDownloads,
      unpack: unpackBudgets(config.images.unpack),
      sandboxTag: sandbox === "" ? "" : (normalizeRef(sandbox).tag ?? normalizeRef(sandbox).digest ?? ""),
      gc: (opts) => collector.collect(opts),
    };
    this.fsInfo = new FsInfo(content, layers, this.paths.containers);
    this.collector = collector;
    this.gcIntervalMs = config.images.gcIntervalMs;
  }

  /** Opens the stores (cleaning what a crash left), drops images whose layers are gone, serves progress. */
  static async open(config: Config, store: Store): Promise<ImageService> {
    const svc = new ImageService(config, store);
    const { content, layers, images } = svc.ctx;
    await content.init();
    await layers.init();
    await fs.mkdir(svc.paths.containers, { recursive: true, mode: 0o700 });
    for (const img of images.list()) {
      const missing = img.layers.filter((l) => !layers.get(l.chainId));
      if (missing.length > 0) {
        log.warn({ image: img.id, tags: img.repoTags, missing: missing.map((l) => l.chainId) }, "image has lost layers; forgetting it (pull it again)");
        images.delete(img.id);
      }
    }
    await svc.ctx.gc();
    svc.collector.schedule(svc.gcIntervalMs);
    svc.progressSocket = await ProgressSocket.listen(svc.paths.progressSocket, svc.ctx.progress);
    svc.archiveSocket = await ArchiveSocket.listen(svc.paths.archiveSocket, svc.ctx);
    return svc;
  }

  /** Runs `sweep` after each scheduled or requested collection (other services' leftovers). */
  onCollect(sweep: () => Promise<void>): void {
    this.collector.addSweeper(sweep);
  }

  /** Pulls an image; resolves to its ID (the config digest), the CRI image_ref. */
  async pull(image: string, auth?: AuthConfig, signal?: AbortSignal): Promise<string> {
    const rec = await pullImage(this.ctx, image, { ...(auth ? { auth } : {}), ...(signal ? { signal } : {}) });
    return rec.id;
  }

  /** Every image, or only the one `filter` names (empty when it names none). */
  list(filter?: string): ImageView[] {
    if (filter) {
      const m = this.ctx.images.find(filter);
      return m ? [this.view(m.image)] : [];
    }
    return this.ctx.images.list().map((r) => this.view(r));
  }

  /** The image `image` names, or undefined (CRI: not an error), with verbose info on request. */
  async status(image: string, verbose: boolean): Promise<{ image?: ImageView; info: Record<string, string> }> {
    const m = this.ctx.images.find(image);
    if (!m) return { info: {} };
    if (!verbose) return { image: this.view(m.image), info: {} };
    const config = await this.ctx.content.read(m.image.id, MAX_CONFIG_BYTES);
    return { image: this.view(m.image), info: verboseInfo(m.image, config, this.ctx.layers.lowerDirs(m.image.layers.map((l) => l.chainId))) };
  }

  remove(image: string): Promise<RemoveResult> {
    return removeImage(this.ctx, image);
  }

  async fsUsage(): Promise<{ images: FsUsage; containers: FsUsage }> {
    const [images, containers] = await Promise.all([this.fsInfo.imageFs(), this.fsInfo.containerFs()]);
    return { images, containers };
  }

  /** The record of an image (for the containers service: layers, config digest). */
  find(image: string): ImageRecord | undefined {
    return this.ctx.images.find(image)?.image;
  }

  private view(r: ImageRecord): ImageView {
    return viewOf(r, this.ctx.sandboxTag);
  }

  async close(): Promise<void> {
    this.collector.schedule(0);
    await this.archiveSocket?.close();
    await this.progressSocket?.close();
    this.ctx.registry.close();
  }
}
