// Image volumes (CRI Mount.image, image_sub_path): each image mounted once on the node as a read-only
// overlay of its layers, shared by every container that mounts it, and unmounted with the last one.
import type { Stats } from "node:fs";
import { lstat, mkdir, readdir, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { BerthError, Code, invalid } from "../errors.js";
import type { Mount } from "../generated/runtime/v1/api.js";
import { isMountPoint } from "../oci/mount.js";
import { KeyedMutex } from "../util/lock.js";
import { logger } from "../util/log.js";
import { fileKind, resolveInRoot } from "./rootfs/in-root.js";
import { mountReadOnlyOverlay } from "./rootfs/image-mount.js";
import { unmountOverlay } from "./rootfs/overlay.js";

const log = logger("image-volumes");
const FILLERS = ".filler";

/** An image mount of a container, as its record keeps it (resolved at CreateContainer). */
export interface ImageVolumeUse {
  /** Its index in the ContainerConfig's mounts. */
  mount: number;
  /** The image ID ("sha256:<config digest>"). */
  id: string;
  /** Its layers, bottom first: kept from image GC while the container's record exists. */
  chainIds: string[];
  /** The digested reference ("name@sha256:<manifest digest>", else the ID): the mount's image_ref in ContainerStatus. */
  imageRef: string;
}

/** A stored image as an image volume needs it. */
export interface VolumeImage {
  id: string;
  chainIds: string[];
  imageRef: string;
}

export interface VolumeImages {
  /** The image a reference names (ID, digest, tag), or undefined when it is not on the node; `asked`
   * (user_specified_image) is the repository its digested reference prefers. */
  volumeImage(ref: string, asked?: string): VolumeImage | undefined;
  lowerDirs(chainIds: readonly string[]): string[];
  layersDir: string;
  /** Image GC: deletes layers no image references and nothing holds. */
  collect(): Promise<void>;
}

/** Whether a container other than `except` holds an image volume of image `id`. */
export type VolumeInUse = (id: string, except: string) => boolean;

/** Checks the request's image mounts and finds their images; nothing is made. */
export function resolveImageVolumes(images: VolumeImages, mounts: readonly Mount[]): ImageVolumeUse[] {
  const out: ImageVolumeUse[] = [];
  for (const [i, m] of mounts.entries()) {
    if (!m.image) {
      if (m.imageSubPath !== "") throw invalid(`mounts[${i}] (${m.containerPath}): image_sub_path ${JSON.stringify(m.imageSubPath)} is only meaningful with an image`);
      continue;
    }
    const ref = m.image.image;
    if (ref === "") throw invalid(`mounts[${i}] (${m.containerPath}): image.image is empty; give the image to mount (kubelet sends the image_ref PullImage returned)`);
    if (m.hostPath !== "") throw invalid(`mounts[${i}] (${m.containerPath}): host_path ${JSON.stringify(m.hostPath)} and image ${JSON.stringify(ref)} are exclusive; an image volume has no host path`);
    if (m.imageSubPath.includes("\0")) throw invalid(`mounts[${i}] (${m.containerPath}): image_sub_path contains a NUL byte`);
    const img = images.volumeImage(ref, m.image.userSpecifiedImage);
    if (!img) {
      throw new BerthError(Code.NOT_FOUND, `mounts[${i}] (${m.containerPath}): image ${JSON.stringify(ref)} of the image volume is not on this node; pull it first (kubelet pulls it with the pod's credentials before CreateContainer)`);
    }
    out.push({ mount: i, id: img.id, chainIds: img.chainIds, imageRef: img.imageRef });
  }
  return out;
}

export class ImageVolumes {
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly dir: string,
    private readonly images: VolumeImages,
    private readonly inUse: VolumeInUse,
  ) {}

  /** Where image `id` is mounted. */
  pathOf(id: string): string {
    return join(this.dir, id.replace(/^sha256:/, ""));
  }

  /**
   * Mounts each image not yet mounted (the container's record, already saved, names them, so a
   * failure is undone by `release`) and resolves sub paths inside the image; returns `mounts` with
   * each image mount turned into a read-only bind of its host path.
   */
  async acquire(mounts: readonly Mount[], uses: readonly ImageVolumeUse[]): Promise<Mount[]> {
    const out = [...mounts];
    for (const use of uses) {
      const m = mounts[use.mount]!;
      const root = await this.locks.run(use.id, () => this.mount(use));
      const host = await subPath(root, m, use);
      out[use.mount] = { ...m, hostPath: host, image: undefined, imageSubPath: "", readonly: true };
    }
    return out;
  }

  /** Unmounts the images of container `id` that no other container uses. Idempotent. */
  async release(containerId: string, uses: readonly ImageVolumeUse[]): Promise<void> {
    for (const id of new Set(uses.map((u) => u.id))) {
      await this.locks.run(id, async () => {
        if (!this.inUse(id, containerId)) await this.unmount(id);
      });
    }
  }

  /** Once a container's record is gone: layers of its volumes' images removed meanwhile are collected (as containerd's GC runs when a lease goes). */
  collectRemoved(uses: readonly ImageVolumeUse[]): void {
    if (uses.some((u) => !this.images.volumeImage(u.id))) void this.images.collect();
  }

  /** At start: unmounts and removes every image volume no container holds (left by a crash). */
  async sweep(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name === FILLERS || !/^[0-9a-f]{64}$/.test(name)) continue;
      const id = `sha256:${name}`;
      await this.locks.run(id, async () => {
        if (this.inUse(id, "")) return;
        try {
          await this.unmount(id);
          log.info({ image: id }, "removed an image volume no container holds");
        } catch (err) {
          log.warn({ image: id, err: (err as Error).message }, "a stale image volume could not be removed");
        }
      });
    }
  }

  private async mount(use: ImageVolumeUse): Promise<string> {
    const target = this.pathOf(use.id);
    if (await isMountPoint(target)) return target;
    // 0700 up to the mount: host users must not walk into an image's setuid files.
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const fillers = [join(this.dir, FILLERS, "0"), join(this.dir, FILLERS, "1")];
    await Promise.all([mkdir(target, { recursive: true, mode: 0o755 }), ...fillers.map((f) => mkdir(f, { recursive: true, mode: 0o755 }))]);
    const lowers = this.images.lowerDirs(use.chainIds);
    try {
      await mountReadOnlyOverlay({ layersDir: this.images.layersDir, lowers, fillers, target });
    } catch (err) {
      await rmdir(target).catch(() => undefined);
      throw err;
    }
    log.debug({ image: use.id, layers: lowers.length }, "image volume mounted");
    return target;
  }

  private async unmount(id: string): Promise<void> {
    const target = this.pathOf(id);
    await unmountOverlay(target);
    // Never remove through a mount that is still there.
    if (await isMountPoint(target)) throw new BerthError(Code.INTERNAL, `image volume ${target} is still mounted after umount`);
    await rmdir(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    log.debug({ image: id }, "image volume unmounted");
  }
}

/** The host path of the mount's image_sub_path inside the mounted image (symlinks kept inside it). */
async function subPath(root: string, m: Mount, use: ImageVolumeUse): Promise<string> {
  if (m.imageSubPath === "") return root;
  const where = `mounts[${use.mount}] (${m.containerPath}): image_sub_path ${JSON.stringify(m.imageSubPath)}`;
  // The overlay is read-only and its layers never change, so what is resolved here is what runc binds.
  const host = await resolveInRoot(root, m.imageSubPath);
  let st: Stats | undefined;
  if (host !== undefined) st = await lstat(host).catch(() => undefined);
  if (host === undefined || !st) throw invalid(`${where} does not exist in image ${use.imageRef}; give a path inside the image`);
  if (!st.isDirectory() && !st.isFile()) throw invalid(`${where} is ${fileKind(st)} in image ${use.imageRef}; only a directory or a regular file can be mounted`);
  return host;
}
