// RemoveContainer: kills a live container, deletes it in runc, unmounts and removes its rootfs,
// bundle and record; the image layers it held are free again. Unknown IDs succeed (kubelet repeats it).
import { logger } from "../util/log.js";
import type { ContainerContext } from "./context.js";
import type { Container } from "./record.js";
import { releaseContainer } from "./teardown.js";

const log = logger("containers");

/** Removes an already-resolved container (caller holds its lock). */
export async function removeResolved(ctx: ContainerContext, c: Container, signal?: AbortSignal): Promise<void> {
  try {
    await releaseContainer(ctx, c, signal);
  } catch (err) {
    // Kept with what is left, so a repeated Remove finishes the job.
    ctx.save(c);
    throw err;
  }
  ctx.drop(c);
  if (c.rec.imageVolumes) ctx.imageVolumes.collectRemoved(c.rec.imageVolumes);
  log.debug({ id: c.rec.id }, "container removed");
}

/** `signal` (the caller's deadline or cancel) stops a runtime that does not answer `delete`; the record stays for a retry. */
export async function removeContainer(ctx: ContainerContext, ref: string, signal?: AbortSignal): Promise<void> {
  const found = ctx.find(ref);
  if (!found) {
    log.debug({ ref }, "RemoveContainer: no such container; nothing to do");
    return;
  }
  await ctx.locks.run(found.rec.id, async () => {
    const c = ctx.containers.get(found.rec.id);
    if (c) await removeResolved(ctx, c, signal);
  });
}
