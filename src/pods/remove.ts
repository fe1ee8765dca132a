// RemovePodSandbox: stops the pod if needed, removes its containers, unpins its namespaces,
// unmounts shm, removes its cgroup, files and record. An unknown ID succeeds (kubelet repeats it).
import { logger } from "../util/log.js";
import type { PodContext } from "./context.js";
import { stopPod } from "./stop.js";
import { releaseAll } from "./teardown.js";

const log = logger("pods");

export async function removePodById(ctx: PodContext, ref: string, signal?: AbortSignal): Promise<void> {
  const found = ctx.find(ref);
  if (!found) {
    log.debug({ ref }, "RemovePodSandbox: no such pod; nothing to do");
    return;
  }
  await ctx.locks.run(found.rec.id, async () => {
    const pod = ctx.pods.get(found.rec.id);
    if (!pod) return;
    if (pod.rec.phase === "ready") await stopPod(ctx, pod);
    try {
      await releaseAll(ctx, pod, signal);
    } catch (err) {
      // Keep the record with what is left, so a repeated Remove finishes the job.
      ctx.save(pod);
      throw err;
    }
    ctx.drop(pod);
  });
}
