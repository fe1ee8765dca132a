// An image's layers as a read-only overlay (lowerdirs only, no upper, mounted "ro"): what an image
// volume (CRI Mount.image) shows. Lowerdirs are relative to the layer store, as for a rootfs.
import { relative } from "node:path";
import { internal, invalid } from "../../errors.js";
import { MAX_MOUNT_DATA, mountTool } from "../../oci/mount.js";

export interface ReadOnlyOverlay {
  /** The layer store's directory: mount runs there and lowerdirs below it are given relative. */
  layersDir: string;
  /** The image's layer dirs, topmost first (absolute). */
  lowers: readonly string[];
  /** Empty dirs appended below the layers: overlay without an upper needs two lowers at least. */
  fillers: readonly string[];
  target: string;
}

/** The `-o` string (exported for tests); throws when it cannot fit or carry a path. */
export function readOnlyOverlayOptions(o: ReadOnlyOverlay): string {
  const dirs = [...o.lowers, ...o.fillers].slice(0, Math.max(2, o.lowers.length));
  if (dirs.length < 2) throw internal("a read-only overlay needs two lower dirs; give filler dirs");
  const rel = dirs.map((l) => {
    const r = relative(o.layersDir, l);
    return r.startsWith("..") || r === "" ? l : r;
  });
  for (const p of rel) {
    if (/[:,\\\n]/.test(p)) throw internal(`overlay path ${JSON.stringify(p)} contains ':', ',' or '\\', which overlay options cannot carry`);
  }
  const opts = `ro,lowerdir=${rel.join(":")}`;
  if (opts.length > MAX_MOUNT_DATA) {
    throw invalid(`the image has ${o.lowers.length} layers: its read-only overlay's options (${opts.length} bytes) do not fit the kernel's ${MAX_MOUNT_DATA}-byte limit`);
  }
  return opts;
}

export async function mountReadOnlyOverlay(o: ReadOnlyOverlay): Promise<void> {
  await mountTool("mount", ["-t", "overlay", "overlay", "-o", readOnlyOverlayOptions(o), o.target], { cwd: o.layersDir, timeoutMs: 30_000 });
}
