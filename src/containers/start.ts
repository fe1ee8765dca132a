// StartContainer: `runc start` of a created container. A start that fails leaves it exited with
// exit code 128 and reason StartError (containerd's convention), so kubelet sees why.
import { BerthError, Code, failedPrecondition } from "../errors.js";
import { logger } from "../util/log.js";
import { stepTimer } from "../util/step-timer.js";
import type { ContainerContext } from "./context.js";
import { recordStartError } from "./exits.js";
import { nowNs } from "./record.js";

const log = logger("containers");

/** `signal` (the caller's deadline or cancel) stops a runtime that does not answer; the container then records a StartError. */
export async function startContainer(ctx: ContainerContext, ref: string, signal?: AbortSignal): Promise<void> {
  const found = ctx.get(ref);
  await ctx.locks.run(found.rec.id, async () => {
    const c = ctx.containers.get(found.rec.id);
    if (!c) throw failedPrecondition(`container "${found.rec.id}" was removed while StartContainer waited`);
    const { rec } = c;
    if (rec.phase !== "created") throw failedPrecondition(`container "${rec.id}" is ${rec.phase}: only a created container can be started`);
    const pod = ctx.deps.pods.find(rec.podId);
    if (pod?.rec.phase !== "ready") throw failedPrecondition(`pod sandbox "${rec.podId}" of container "${rec.id}" is not ready`);
    c.startRequested = true;
    // Taken before runc start: the process may exit (and be recorded) before runc returns.
    const startedAt = nowNs();
    const timer = stepTimer();
    try {
      if (rec.startError !== undefined) throw new BerthError(Code.UNKNOWN, `start container "${rec.id}": ${rec.startError}`);
      await timer.step("runc_start", () => ctx.deps.oci.start(rec.id, signal));
    } catch (err) {
      recordStartError(ctx, c, { timestampNs: nowNs() }, (err as Error).message);
      if (rec.process) await ctx.deps.oci.kill(rec.id, "SIGKILL").catch((e: unknown) => log.debug({ id: rec.id, err: (e as Error).message }, "kill after a failed start"));
      throw err;
    }
    rec.startedAt = startedAt.toString();
    if (rec.phase === "created") rec.phase = "running";
    timer.stepSync("store_running", () => ctx.save(c));
    log.debug({ id: rec.id, ms: timer.done(), at: timer.spans() }, "container started");
  });
}
