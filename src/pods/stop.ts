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
  // "stopping" until every step worked: a restart finishes such a Stop (finishInterruptedStops).
  if (pod.rec.phase === "ready") {
    pod.rec.phase = "notready";
    pod.rec.reason = STOPPING;
    ctx.save(pod);
  }
  try {
    await stopSteps(ctx, pod);
    if (pod.rec.reason === STOPPING) pod.rec.reason = "stopped";
  } finally {
    ctx.save(pod);
  }
}

/** The reason of a pod whose Stop began and has not finished. */
export const STOPPING = "stopping";

/** After a restart: Stops cut short by the daemon's death are run again (they are idempotent). */
export async function finishInterruptedStops(ctx: PodContext): Promise<void> {
  const cut = [...ctx.pods.values()].filter((p) => p.rec.phase === "notready" && p.rec.reason === STOPPING);
  await Promise.all(
    cut.map((p) =>
      ctx.locks
        .run(p.rec.id, async () => {
          if (ctx.pods.get(p.rec.id) !== p || p.rec.reason !== STOPPING) return;
          await stopPod(ctx, p);
          log.info({ pod: p.rec.id }, "finished a StopPodSandbox the daemon's death had cut short");
        })
        .catch((err: unknown) => log.warn({ pod: p.rec.id, err: (err as Error).message }, "finishing an interrupted StopPodSandbox failed; kubelet's retry will")),
    ),
  );
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
