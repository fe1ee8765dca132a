// StopContainer: the stop signal, then SIGKILL once the timeout passes (at once for timeout 0);
// returns after the exit is recorded. Stopping a stopped or unknown container succeeds.
import { logger } from "../util/log.js";
import type { ContainerContext } from "./context.js";
import { recordExit, recordStartError } from "./exits.js";
import { nowNs, type Container } from "./record.js";
import { stopSignalOf } from "./signals.js";

const log = logger("containers");

/** Stops an already-resolved container (caller holds its lock). */
export async function stopResolved(ctx: ContainerContext, c: Container, timeoutMs: number): Promise<void> {
  const { rec } = c;
  if (rec.phase === "exited" || rec.phase === "creating") return;
  // Created without a process (its command cannot be executed): it can never run.
  if (!rec.process && rec.startError !== undefined) return recordStartError(ctx, c, { timestampNs: nowNs() }, rec.startError);
  const oci = ctx.deps.oci;
  if (rec.process && !oci.known(rec.id)) await oci.adopt(rec.process);
  const signal = timeoutMs > 0 ? stopSignalOf(c.config.stopSignal, rec.image.stopSignal) : "SIGKILL";
  const exit = await oci.stop(rec.id, signal, Math.max(0, timeoutMs));
  const oom = await oci.oomKilled(rec.id).catch(() => false);
  recordExit(ctx, c, exit, oom);
}

export async function stopContainer(ctx: ContainerContext, ref: string, timeoutSeconds: bigint): Promise<void> {
  const found = ctx.find(ref);
  // CRI: StopContainer is repeated by kubelet; a container that is gone is stopped enough.
  if (!found) {
    log.debug({ ref }, "StopContainer: no such container; nothing to do");
    return;
  }
  const ms = timeoutSeconds > 0n ? Number(timeoutSeconds) * 1000 : 0;
  await ctx.locks.run(found.rec.id, async () => {
    const c = ctx.containers.get(found.rec.id);
    if (c) await stopResolved(ctx, c, ms);
  });
}
