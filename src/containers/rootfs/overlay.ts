// The container's root filesystem: an overlay of the image's shared layer dirs (read-only) and a
// per-container upper dir, mounted with mount(2); an image whose absolute lowerdirs overflow the kernel's
// one-page option limit is mounted by the `mount` tool run in the layer store, with relative lowerdirs.
import { relative } from "node:path";
import { isMountPoint, MAX_MOUNT_DATA, mountFs, mountTool, unmount } from "../../oci/mount.js";
import { internal, invalid } from "../../errors.js";
import { logger } from "../../util/log.js";

const log = logger("rootfs");
const TIMEOUT_MS = 30_000;

export interface OverlaySpec {
  /** The layer store's directory: mount runs there and lowerdirs below it are given relative. */
  layersDir: string;
  /** Lower dirs, topmost first (absolute). */
  lowers: readonly string[];
  upper: string;
  work: string;
  target: string;
}

function tool(cmd: "mount" | "umount", args: string[], cwd?: string): Promise<void> {
  return mountTool(cmd, args, { timeoutMs: TIMEOUT_MS, ...(cwd ? { cwd } : {}) });
}

/** The `-o` string for the spec with lowerdirs relative to the layer store (exported for tests); throws when it cannot fit. */
export function overlayOptions(o: OverlaySpec): string {
  const opts = optionsOf(o, true);
  if (opts.length > MAX_MOUNT_DATA) {
    throw invalid(`the image has ${o.lowers.length} layers: the overlay mount options (${opts.length} bytes) do not fit the kernel's ${MAX_MOUNT_DATA}-byte limit`);
  }
  return opts;
}

/** The options with lowerdirs relative to the layer store or absolute; throws on paths overlayfs cannot carry. */
function optionsOf(o: OverlaySpec, relativeLowers: boolean): string {
  if (o.lowers.length === 0) throw internal("an overlay needs at least one lower dir");
  const lowers = o.lowers.map((l) => {
    const rel = relative(o.layersDir, l);
    return !relativeLowers || rel.startsWith("..") || rel === "" ? l : rel;
  });
  for (const p of [...lowers, o.upper, o.work]) {
    // overlayfs splits lowerdir on ':' and the option string on ','.
    if (/[:,\\\n]/.test(p)) throw internal(`overlay path ${JSON.stringify(p)} contains ':', ',' or '\\', which overlay options cannot carry`);
  }
  // No nosuid/nodev: runc bind-mounts this mount onto itself in the container's mount namespace
  // and a bind mount keeps those flags (checked), so setuid binaries and mknod'ed nodes would stop
  // working inside. Host users are kept out by the 0700 bundle and data dirs around it instead.
  return `lowerdir=${lowers.join(":")},upperdir=${o.upper},workdir=${o.work}`;
}

export async function mountOverlay(o: OverlaySpec): Promise<void> {
  const absolute = optionsOf(o, false);
  if (absolute.length <= MAX_MOUNT_DATA) await mountFs("overlay", o.target, "overlay", 0, absolute);
  // Too long with absolute paths: the tool, run in the layer store, takes them relative.
  else await tool("mount", ["-t", "overlay", "overlay", "-o", overlayOptions(o), o.target], o.layersDir);
}


/** Unmounts the rootfs if mounted; a busy mount is detached lazily rather than kept. */
export async function unmountOverlay(target: string): Promise<void> {
  if (!(await isMountPoint(target))) return;
  try {
    await unmount(target);
  } catch (err) {
    log.warn({ target, err: (err as Error).message }, "umount failed; detaching lazily");
    await unmount(target, true);
  }
}
