// The image service: over the stores and registry client the daemon hands it, the operations the
// CRI ImageService needs, and what containers need of an image (config, layer dirs, layer users).
import fs from "node:fs/promises";
import { notFound } from "../errors.js";
import { logger } from "../util/log.js";
import type { ImageContext } from "./context.js";
import { ArchiveSocket } from "./archive/socket.js";
import type { ContentStore } from "./content/store.js";
import { digestedReference } from "./digested-ref.js";
import { FsInfo, type FsUsage } from "./fsinfo.js";
import { Collector } from "./gc.js";
import type { LayerStore } from "./layers/store.js";
import { Leases } from "./leases.js";
import { ProgressFeed } from "./progress.js";
import { ProgressSocket } from "./progress-socket.js";
import { pullImage } from "./pull.js";
import { burstOver } from "./content/reclaim.js";
import type { AuthConfig } from "./registry/auth.js";
import type { RegistryClient } from "./registry/client.js";
import { parseImageConfig, type ContainerDefaults } from "./registry/image-config.js";
import { MAX_CONFIG_BYTES } from "./registry/media-types.js";
import { removeImage, type RemoveResult } from "./remove.js";
import { normalizeRef, type ImageRecord, type ImageStore } from "./store.js";
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

/** What the daemon hands the image service: its stores, the registry client and its limits. */
export interface ImageDeps {
  paths: ImagePaths;
  registry: RegistryClient;
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
  maxConcurrentDownloads: number;
  unpack: ImageContext["unpack"];
  /** images.sandbox_image, or "" when none. */
  sandboxImage: string;
  /** images.gc_interval in ms (0: collect only at start and after RemoveImage). */
  gcIntervalMs: number;
}

/** An image's config as a container needs it (parsed once per image ID). */
export interface ContainerImage {
  id: string;
  chainIds: string[];
  config: ContainerDefaults;
  /** "name@sha256:<manifest digest>" (the ID when the image has no name). */
  digestedRef: string;
}

export class ImageService {
  private readonly ctx: ImageContext;
  /** Parsed image configs by image ID (they never change for an ID). */
  private readonly configs = new Map<string, ContainerDefaults>();
  readonly paths: ImagePaths;
  private readonly fsInfo: FsInfo;
  private progressSocket: ProgressSocket | undefined;
  private archiveSocket: ArchiveSocket | undefined;
  private readonly collector: Collector;
  private readonly gcIntervalMs: number;

  private constructor(deps: ImageDeps) {
    this.paths = deps.paths;
    const { registry, content, layers, images } = deps;
    const blobLeases = new Leases();
    const collector = new Collector(images, layers, content, blobLeases);
    const sandbox = deps.sandboxImage;
    this.ctx = {
      registry, content, layers, images, blobLeases,
      progress: new ProgressFeed(),
      maxConcurrentDownloads: deps.maxConcurrentDownloads,
      unpack: deps.unpack,
      sandboxTag: sandbox === "" ? "" : (normalizeRef(sandbox).tag ?? normalizeRef(sandbox).digest ?? ""),
      gc: (opts) => collector.collect(opts),
    };
    this.fsInfo = new FsInfo(content, layers, this.paths.containers);
    this.collector = collector;
    this.gcIntervalMs = deps.gcIntervalMs;
  }

  /** Opens the stores (cleaning what a crash left), drops images whose layers are gone, serves progress. */
  static async open(deps: ImageDeps): Promise<ImageService> {
    const svc = new ImageService(deps);
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
    try {
      const rec = await pullImage(this.ctx, image, { ...(auth ? { auth } : {}), ...(signal ? { signal } : {}) });
      return rec.id;
    } finally {
      burstOver();
    }
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

  /** The image `ref` names as a container needs it; NotFound when not pulled. `asked`: the name the user gave. */
  async resolveForContainer(ref: string, asked?: string): Promise<ContainerImage> {
    const rec = this.find(ref);
    if (!rec) throw notFound("image", ref);
    let config = this.configs.get(rec.id);
    if (!config) {
      config = parseImageConfig(await this.ctx.content.read(rec.id, MAX_CONFIG_BYTES), `image config ${rec.id}`).config;
      this.configs.set(rec.id, config);
    }
    return { id: rec.id, chainIds: rec.layers.map((l) => l.chainId), config, digestedRef: digestedReference(rec, asked || ref) };
  }

  /** Overlay lower dirs for the layers (bottom first in), topmost first. */
  lowerDirs(chainIds: readonly string[]): string[] {
    return this.ctx.layers.lowerDirs(chainIds);
  }

  /** The layer store's directory (a rootfs whose absolute lowerdirs overflow a page is mounted from there, relative). */
  get layersDir(): string {
    return this.ctx.layers.dir;
  }

  /** Registers who else holds layers (containers' rootfs): GC keeps a layer any user says is in use. */
  /** Collects unreferenced images' layers and blobs now (after the last user of a removed image's volume went). */
  async collect(): Promise<void> {
    await this.ctx.gc();
  }

  addLayerUser(inUse: (chainId: string) => boolean): void {
    this.ctx.layers.addUser(inUse);
  }

  /** Pull progress, for the metrics observer. */
  get progress(): ProgressFeed {
    return this.ctx.progress;
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
