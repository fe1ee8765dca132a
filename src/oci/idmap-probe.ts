// Tells at start-up whether user-namespaced pods can work here: a real overlay is idmapped with a
// throwaway user namespace and the owner seen through it checked. Status and RunPodSandbox use it.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { detachMount, idmapBind, loadIdmapSupport } from "./idmap.js";
import { mountTool } from "./mount.js";
import { makeUserns } from "./userns.js";

export type IdmapSupport = { ok: true } | { ok: false; reason: string };

const PROBE_HOST_ID = 1_879_048_192;

function runcHasUserns(runcPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(runcPath, ["features"], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(false);
      try {
        const f = JSON.parse(stdout) as { linux?: { namespaces?: unknown } };
        resolve(Array.isArray(f.linux?.namespaces) && f.linux.namespaces.includes("user"));
      } catch {
        resolve(false);
      }
    });
  });
}

/**
 * Probes what `hostUsers: false` pods need: runc with user namespaces, the FFI, and an idmapped
 * overlay mount on the filesystem under `workDir` (the state dir). Leaves nothing behind.
 */
export async function probeIdmappedMounts(workDir: string, runcPath = "runc"): Promise<IdmapSupport> {
  try {
    loadIdmapSupport();
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (!(await runcHasUserns(runcPath))) return { ok: false, reason: `${runcPath} features does not list the user namespace` };
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(workDir, "idmap-probe-"));
  const merged = join(dir, "merged");
  let mounted = false;
  const holder = await makeUserns({}, [], [{ containerId: 0, hostId: PROBE_HOST_ID, length: 1 }], [{ containerId: 0, hostId: PROBE_HOST_ID, length: 1 }]).catch((err: Error) => err);
  try {
    if (holder instanceof Error) return { ok: false, reason: `cannot make a user namespace: ${holder.message}` };
    const layers = join(dir, "layers");
    const idmapped = join(dir, "idmapped");
    await Promise.all([layers, idmapped, merged].map((d) => mkdir(d)));
    await Promise.all(["lower", "upper", "work"].map((d) => mkdir(join(layers, d))));
    await writeFile(join(layers, "lower", "f"), "");
    // As a container's rootfs is made: the overlay over an idmapped copy of its layer dirs.
    idmapBind(layers, idmapped, `/proc/${holder.pid}/ns/user`, false);
    try {
      await mountTool("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${join(idmapped, "lower")},upperdir=${join(idmapped, "upper")},workdir=${join(idmapped, "work")}`, merged]);
      mounted = true;
    } finally {
      detachMount(idmapped);
    }
    const uid = (await stat(join(merged, "f"))).uid;
    if (uid !== PROBE_HOST_ID) return { ok: false, reason: `an idmapped overlay showed owner ${uid}, not ${PROBE_HOST_ID}` };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `idmapped overlay mount failed: ${(err as Error).message}` };
  } finally {
    if (mounted) await mountTool("umount", [merged]).catch(() => mountTool("umount", ["-l", merged]).catch(() => undefined));
    if (!(holder instanceof Error)) await holder.release();
    await rm(dir, { recursive: true, force: true });
  }
}
