// Start-up recovery: pods come back from the store; a READY pod whose pins (or infra process)
// are gone — a reboot, a manual umount — becomes NOTREADY; half-made pods are cleaned up.
import { logger } from "../util/log.js";
import type { PodContext } from "./context.js";
import { markLoaded } from "./events.js";
import { isNamespaceFile } from "./namespaces.js";
import { podFromRecord, type Pod } from "./record.js";
import { infraRunning } from "./steps.js";
import { releaseAll } from "./teardown.js";

const log = logger("pods");

async function whyNotReady(ctx: PodContext, pod: Pod): Promise<string | undefined> {
  if (ctx.deps.rebooted) return ctx.deps.rebooted;
  for (const [kind, path] of Object.entries(pod.rec.pins)) {
    if (path && !(await isNamespaceFile(path))) return `${kind} namespace pin ${path} is gone`;
  }
  if (pod.rec.infra && !(await infraRunning(pod))) return `infra process ${pod.rec.infra.pid} exited`;
  return undefined;
}

/** Loads every record; returns the half-made pods, which the caller cleans up in the background. */
export async function loadPods(ctx: PodContext): Promise<Pod[]> {
  const leftovers: Pod[] = [];
  for (const rec of ctx.deps.store.all()) {
    let pod: Pod;
    try {
      pod = podFromRecord(rec);
    } catch (err) {
      log.error({ id: rec.id, err: (err as Error).message }, "pod record unusable; skipped");
      continue;
    }
    ctx.pods.set(rec.id, pod);
    markLoaded(pod);
    if (ctx.deps.rebooted && rec.infra) {
      // Its pid may name another process in this boot: never signal it.
      delete rec.infra;
      ctx.save(pod);
    }
    if (rec.phase === "creating" || rec.phase === "failed") {
      leftovers.push(pod);
    } else if (rec.phase === "ready") {
      const why = await whyNotReady(ctx, pod);
      if (why) {
        rec.phase = "notready";
        rec.reason = why;
        ctx.save(pod);
        log.info({ pod: rec.id, reason: why }, "pod is NOTREADY after restart");
      }
    }
  }
  log.info({ pods: ctx.pods.size, leftovers: leftovers.length }, "pods loaded");
  return leftovers;
}

/** Releases a half-made pod and drops its record; on failure it stays "failed" for the next try. */
export async function cleanUpLeftover(ctx: PodContext, pod: Pod): Promise<void> {
  await ctx.locks.run(pod.rec.id, async () => {
    if (ctx.pods.get(pod.rec.id) !== pod) return;
    try {
      await releaseAll(ctx, pod);
      ctx.drop(pod);
      log.info({ pod: pod.rec.id }, "cleaned up a half-made pod");
    } catch (err) {
      pod.rec.phase = "failed";
      ctx.save(pod);
      log.warn({ pod: pod.rec.id, err: (err as Error).message }, "half-made pod could not be cleaned up yet");
    }
  });
}
