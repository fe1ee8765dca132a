// A user-namespaced pod's container sees its rootfs and volumes owned as on the host, shifted by the
// pod's mappings: idmapped copies of the layer and upper dirs under the overlay, and of each bind source.
import { chmod, chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { failedPrecondition, invalid } from "../../errors.js";
import type { IDMapping } from "../../generated/runtime/v1/api.js";
import { detachMount, idmapBind } from "../../oci/idmap.js";
import { unmount } from "../../oci/mount.js";
import type { OciMount } from "../spec/oci-types.js";
import { mountOverlay, type OverlaySpec } from "./overlay.js";

/** Where the clones are attached while they are needed; teardown detaches anything left there. */
export const IDMAP_DIR = "idmap";

/** The host uid or gid the container's 0 maps to. */
export function hostRoot(maps: readonly IDMapping[], what: string): number {
  const m = maps.find((x) => x.containerId === 0 && x.length > 0);
  if (!m) throw failedPrecondition(`the pod's ${what} mappings do not map container id 0: a user namespace needs a root`);
  return m.hostId;
}

/**
 * Mounts the overlay over an idmapped copy of the layer store: overlayfs cannot be idmapped itself,
 * but passes its lower layers' idmaps through, so the image's root-owned files show as the pod's
 * root. No layer is chowned; only the container's own, empty upper dir is given to the mapped root
 * (an idmapped upper would not do: overlayfs works there as host root, whom the idmap cannot map).
 * The copy is detached once the overlay holds it.
 */
export async function mountIdmappedOverlay(o: OverlaySpec, containerDir: string, usernsPin: string, root: { uid: number; gid: number }): Promise<void> {
  const layers = join(containerDir, IDMAP_DIR, "layers");
  await mkdir(layers, { recursive: true, mode: 0o700 });
  const lowers = o.lowers.map((p) => {
    const rel = relative(o.layersDir, p);
    return rel.startsWith("..") ? p : join(layers, rel);
  });
  await chown(o.upper, root.uid, root.gid);
  idmapBind(o.layersDir, layers, usernsPin, false);
  try {
    await mountOverlay({ ...o, layersDir: layers, lowers });
  } finally {
    detachMount(layers);
  }
}

/**
 * Replaces each bind mount's source by an idmapped copy under <bundle>/idmap (host paths, pod
 * files, shm, volumes), so host root's files show as the pod's root, as kubelet expects. Returns
 * the copies, for detaching once runc has bound them.
 */
export async function idmapBindSources(mounts: OciMount[], bundle: string, usernsPin: string): Promise<string[]> {
  const dir = join(bundle, IDMAP_DIR);
  await mkdir(dir, { mode: 0o700 });
  const made: string[] = [];
  try {
    for (const [i, m] of mounts.entries()) {
      const opts = m.options ?? [];
      if (!m.source || (m.type !== "bind" && !opts.includes("bind") && !opts.includes("rbind"))) continue;
      const target = join(dir, String(i));
      const st = await stat(m.source);
      if (st.isDirectory()) await mkdir(target, { mode: 0o700 });
      else await writeFile(target, "", { mode: 0o600 });
      try {
        idmapBind(m.source, target, usernsPin, opts.includes("rbind"));
      } catch (err) {
        throw invalid(`mount ${m.destination}: ${m.source} cannot be given to a user-namespaced pod (hostUsers: false) as an idmapped mount: ${(err as Error).message}; use a volume on a local filesystem, or hostUsers: true`);
      }
      made.push(target);
      m.source = target;
    }
    return made;
  } catch (err) {
    detachAll(made);
    throw err;
  }
}

export function detachAll(paths: readonly string[]): void {
  for (const p of paths) detachMount(p);
}

/**
 * The mapped root has no rights on host-owned dirs, yet runc, inside the user namespace, looks up
 * the rootfs and the mount sources under <state>/containers/<id>. Opened for it, exactly: <state>
 * and <state>/containers get 0711 (search only, as containerd's own), and the bundle, kept 0700,
 * becomes the mapped root's, so other host users still cannot enter it.
 */
export async function openBundleForUserns(bundle: string, uid: number, gid: number): Promise<void> {
  const bundles = dirname(bundle);
  await chmod(dirname(bundles), 0o711);
  await chmod(bundles, 0o711);
  await chown(bundle, uid, gid);
}

/** Teardown guard: detaches copies a crash left under the container's dirs, so removing them cannot reach through. */
export async function releaseIdmapCopies(dirs: readonly string[]): Promise<void> {
  const made = await Promise.all(dirs.map((d) => stat(join(d, IDMAP_DIR)).then(() => true, () => false)));
  if (!made.includes(true)) return; // not a user-namespaced container: no mountinfo read
  const roots = dirs.map((d) => `${join(d, IDMAP_DIR)}/`);
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const points = info
    .split("\n")
    .map((l) => (l.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => roots.some((r) => p.startsWith(r)));
  for (const p of points.reverse()) await unmount(p, true);
}
