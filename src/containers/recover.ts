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

/** Brings one record in line with what is known without the runtime; true when runc must be asked whether a created container was started. */
async function reconcile(ctx: ContainerContext, c: Container): Promise<boolean> {
  const { rec } = c;
  if (rec.phase !== "created" && rec.phase !== "running") return false;
  if (ctx.deps.rebooted) {
    recordExit(ctx, c, { code: LOST_CODE, timestampNs: nowNs() }, false, ctx.deps.rebooted);
    return false;
  }
  if (rec.phase === "created" && rec.startError !== undefined) return false; // no process by design: Start reports it
  if (!rec.process) {
    recordExit(ctx, c, { code: LOST_CODE, timestampNs: nowNs() }, false, "the container has no recorded process");
    return false;
  }
  c.startRequested = rec.phase === "running";
  const report = await ctx.deps.oci.adopt(rec.process);
  if (report.exit) {
    recordExit(ctx, c, report.exit, report.oomKilled);
  } else if (!report.processAlive) {
    recordExit(ctx, c, { code: LOST_CODE, timestampNs: nowNs() }, report.oomKilled, "the container process is gone and no exit code was recorded (host reboot or monitor killed)");
  } else if (rec.phase === "created") {
    return true;
  }
  return false;
}

/**
 * Berth may have died between runc start and saving "running": asks runc, this once, under the
 * container's lock and after the daemon serves, so a runtime that hangs in `state` holds up
 * only calls about this container.
 */
export async function askIfStarted(ctx: ContainerContext, c: Container): Promise<void> {
  await ctx.locks.run(c.rec.id, async () => {
    if (ctx.containers.get(c.rec.id) !== c || c.rec.phase !== "created") return;
    const st = await ctx.deps.oci.state(c.rec.id).catch(() => undefined);
    if (c.rec.phase === "created" && (st?.status === "running" || st?.status === "paused")) {
      c.rec.phase = "running";
      c.rec.startedAt = nowNs().toString();
      ctx.save(c);
    }
  });
}

/** Loads every record; returns the ones to clean up (half-made, or whose pod is gone) and the created ones to ask runc about (askIfStarted). */
export async function loadContainers(ctx: ContainerContext): Promise<{ leftovers: Container[]; unsure: Container[] }> {
  const leftovers: Container[] = [];
  const unsure: Container[] = [];
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
    if (ctx.deps.rebooted && rec.process) {
      // Its pids may name other processes in this boot: forget them, so nothing signals them.
      c.startRequested = rec.phase === "running";
      delete rec.process;
      ctx.save(c);
    }
    if (rec.phase === "creating" || !ctx.deps.pods.find(rec.podId)) {
      leftovers.push(c);
      continue;
    }
    try {
      if (await reconcile(ctx, c)) unsure.push(c);
    } catch (err) {
      log.warn({ id: rec.id, err: (err as Error).message }, "container could not be reconciled");
    }
  }
  log.info({ containers: ctx.containers.size, leftovers: leftovers.length }, "containers loaded");
  return { leftovers, unsure };
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
