// StopPodSandbox: stops the pod's containers and infra and tears its network down (CNI DEL),
// leaving namespaces, shm and files for Remove. Safe to repeat and on half-made pods.
import { logger } from "../util/log.js";
import type { PodContext } from "./context.js";
import type { Pod } from "./record.js";
import { stopSteps } from "./teardown.js";

const log = logger("pods");

/** Stops an already-resolved pod (caller holds its lock). */
export async function stopPod(ctx: PodContext, pod: Pod): Promise<void> {
  // NOTREADY before anything is stopped, and saved: a daemon killed mid-Stop must not come back
  // with a READY pod whose infra it had already killed. Even when a step fails the pod stays
  // NOTREADY; kubelet retries Stop, and whatever is still attached (network.attached) goes then.
  if (pod.rec.phase === "ready") {
    pod.rec.phase = "notready";
    pod.rec.reason = "stopped";
    ctx.save(pod);
  }
  try {
    await stopSteps(ctx, pod);
  } finally {
    ctx.save(pod);
  }
}

export async function stopPodById(ctx: PodContext, ref: string): Promise<void> {
  const found = ctx.find(ref);
  // CRI: Stop must succeed when the sandbox is already gone (kubelet repeats it), as CRI-O does.
  if (!found) {
    log.debug({ ref }, "StopPodSandbox: no such pod; nothing to do");
    return;
  }
  await ctx.locks.run(found.rec.id, async () => {
    const pod = ctx.pods.get(found.rec.id);
    if (pod) await stopPod(ctx, pod);
  });
}
