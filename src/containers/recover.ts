// Start-up recovery: containers come back from the store and are reconciled with what conmon
// and runc know — exits written while Berth was down, processes lost to a reboot, half-made ones.
import { logger } from "../util/log.js";
import type { ContainerContext } from "./context.js";
import { recordExit } from "./exits.js";
import { containerFromRecord, nowNs, type Container } from "./record.js";
import { releaseContainer } from "./teardown.js";

const log = logger("containers");
/** conmon's own status for an init it lost track of (runc's convention for "unknown"). */
const LOST_CODE = 255;

async function reconcile(ctx: ContainerContext, c: Container): Promise<void> {
  const { rec } = c;
  if (rec.phase !== "created" && rec.phase !== "running") return;
  if (rec.phase === "created" && rec.startError !== undefined) return; // no process by design: Start reports it
  if (!rec.process) {
    recordExit(ctx, c, { code: LOST_CODE, timestampNs: nowNs() }, false, "the container has no recorded process");
    return;
  }
  c.startRequested = rec.phase === "running";
  const report = await ctx.deps.oci.adopt(rec.process);
  if (report.exit) {
    recordExit(ctx, c, report.exit, report.oomKilled);
  } else if (!report.processAlive) {
    recordExit(ctx, c, { code: LOST_CODE, timestampNs: nowNs() }, report.oomKilled, "the container process is gone and no exit code was recorded (host reboot or monitor killed)");
  } else if (rec.phase === "created") {
    // Berth may have died between runc start and saving "running": ask runc, this once.
    const st = await ctx.deps.oci.state(rec.id).catch(() => undefined);
    if (st?.status === "running" || st?.status === "paused") {
      rec.phase = "running";
      rec.startedAt = nowNs().toString();
      ctx.save(c);
    }
  }
}

/** Loads every record; returns the ones to clean up (half-made, or whose pod is gone). */
export async function loadContainers(ctx: ContainerContext): Promise<Container[]> {
  const leftovers: Container[] = [];
  const recs = ctx.deps.store.all().sort((a, b) => (BigInt(a.createdAt) < BigInt(b.createdAt) ? -1 : 1));
  for (const rec of recs) {
    let c: Container;
    try {
      c = containerFromRecord(rec);
    } catch (err) {
      log.error({ id: rec.id, err: (err as Error).message }, "container record unusable; skipped");
      continue;
    }
    ctx.load(c);
    if (rec.phase === "creating" || !ctx.deps.pods.find(rec.podId)) {
      leftovers.push(c);
      continue;
    }
    try {
      await reconcile(ctx, c);
    } catch (err) {
      log.warn({ id: rec.id, err: (err as Error).message }, "container could not be reconciled");
    }
  }
  log.info({ containers: ctx.containers.size, leftovers: leftovers.length }, "containers loaded");
  return leftovers;
}

export async function cleanUpLeftover(ctx: ContainerContext, c: Container): Promise<void> {
  await ctx.locks.run(c.rec.id, async () => {
    if (ctx.containers.get(c.rec.id) !== c) return;
    try {
      await releaseContainer(ctx, c);
      ctx.drop(c);
      log.info({ id: c.rec.id }, "cleaned up a half-made or orphaned container");
    } catch (err) {
      log.warn({ id: c.rec.id, err: (err as Error).message }, "leftover container could not be cleaned up yet");
    }
  });
}
