// ImageFsInfo: bytes and inodes used by the image store (blobs + layers) and by the containers'
// writable layers under <root>/containers, each with the time it was measured.
import { stat } from "node:fs/promises";
import { diskUsage, type Usage } from "../util/disk-usage.js";
import type { ContentStore } from "./content/store.js";
import type { LayerStore } from "./layers/store.js";

export interface FsUsage extends Usage {
  mountpoint: string;
  /** Nanoseconds since the epoch. */
  timestamp: bigint;
}

// Walking every container's writable layer is costly; kubelet asks every few seconds.
const CONTAINER_FS_MAX_AGE_MS = 10_000;

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

export class FsInfo {
  private containers: { at: number; usage: FsUsage } | undefined;
  private walking: Promise<FsUsage> | undefined;

  constructor(
    private readonly content: ContentStore,
    private readonly layers: LayerStore,
    readonly containersDir: string,
  ) {}

  async imageFs(): Promise<FsUsage> {
    const [c, l] = await Promise.all([this.content.usage(), this.layers.usage()]);
    return { mountpoint: this.layers.dir, bytes: c.bytes + l.bytes, inodes: c.inodes + l.inodes, timestamp: nowNs() };
  }

  async containerFs(): Promise<FsUsage> {
    const cached = this.containers;
    if (cached && Date.now() - cached.at < CONTAINER_FS_MAX_AGE_MS) return cached.usage;
    this.walking ??= Promise.all([diskUsage(this.containersDir), this.containerMountpoint()]).then(([u, mountpoint]) => {
      const usage = { mountpoint, ...u, timestamp: nowNs() };
      this.containers = { at: Date.now(), usage };
      return usage;
    }).finally(() => (this.walking = undefined));
    // A stale figure now beats a slow answer; the walk refreshes it for the next call.
    return cached ? cached.usage : this.walking;
  }

  /**
   * kubelet (KEP-4191) takes different image and container mountpoints for a split image
   * filesystem; on one filesystem both name the image store's, as CRI-O reports them.
   */
  private async containerMountpoint(): Promise<string> {
    try {
      const [c, l] = await Promise.all([stat(this.containersDir), stat(this.layers.dir)]);
      return c.dev === l.dev ? this.layers.dir : this.containersDir;
    } catch {
      return this.containersDir;
    }
  }
}
