// Releasing what a container owns, driven only by its record, in the reverse order of creation:
// the process (killed and deleted in runc), the rootfs mount, the bundle, the writable layer, conmon's cgroup.
import { rm } from "node:fs/promises";
import { logger } from "../util/log.js";
import type { ContainerContext } from "./context.js";
import type { Container } from "./record.js";
import { releaseIdmapCopies } from "./rootfs/idmapped.js";
import { unmountOverlay } from "./rootfs/overlay.js";
import { isMountPoint } from "../oci/mount.js";
import { join } from "node:path";

const log = logger("containers");

/** Idempotent: each step is a no-op for what is already gone. Throws the first failure after trying all it safely can.
 * `signal` stops a runtime `delete` that does not answer (the caller gave up); the rest is then kept for a retry. */
export async function releaseContainer(ctx: ContainerContext, c: Container, signal?: AbortSignal): Promise<void> {
  const { rec } = c;
  const errors: unknown[] = [];
  const ms: Record<string, number> = {};
  const step = async (name: string, fn: () => Promise<void>): Promise<boolean> => {
    const t0 = performance.now();
    try {
      await fn();
      return true;
    } catch (err) {
      log.warn({ id: rec.id, step: name, err: (err as Error).message }, "releasing a container: step failed");
      errors.push(err);
      return false;
    } finally {
      ms[name] = Math.round((performance.now() - t0) * 10) / 10;
    }
  };
  const oci = ctx.deps.oci;
  const rootfs = join(rec.paths.bundle, "rootfs");
  const deleteProcess = () =>
    step("process", async () => {
      if (rec.process && !oci.known(rec.id)) await oci.adopt(rec.process);
      // A create cut short by a kill -9 of the daemon: its conmon may still run, under no record.
      if (!rec.process && !oci.known(rec.id)) await oci.abandonCreate(rec.id, rec.paths.bundle);
      await oci.delete(rec.id, { force: true, ...(signal ? { signal } : {}) });
    });
  let unmounted: boolean;
  let deleted: boolean;
  if (rec.phase === "exited") {
    // Nothing runs in the rootfs any more: runc delete and the umount go together (~10 ms saved).
    [deleted, unmounted] = await Promise.all([deleteProcess(), step("rootfs", () => unmountOverlay(rootfs))]);
  } else {
    deleted = await deleteProcess();
    unmounted = await step("rootfs", () => unmountOverlay(rootfs));
  }
  // Its binds of image volumes went with its process; an image no other container mounts is unmounted.
  const volumes = rec.imageVolumes;
  if (deleted && volumes) await step("image volumes", () => ctx.imageVolumes.release(rec.id, volumes));
  // Never remove through a mount that is still there: that would write whiteouts, or worse.
  if (unmounted && !(await isMountPoint(rootfs)) && (await step("idmap", () => releaseIdmapCopies([rec.paths.bundle, rec.paths.dir])))) {
    await step("bundle", () => rm(rec.paths.bundle, { recursive: true, force: true }));
    await step("data", () => rm(rec.paths.dir, { recursive: true, force: true }));
  }
  if (rec.conmonLeaf) {
    const leaf = rec.conmonLeaf;
    if (await step("conmon cgroup", () => ctx.deps.cgroups.removeLeaf(leaf))) delete rec.conmonLeaf;
  }
  rec.mounted = false;
  log.debug({ id: rec.id, ms }, "container released");
  if (errors.length > 0) throw errors[0];
}
