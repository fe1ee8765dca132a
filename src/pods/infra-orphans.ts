// At start, infra processes no pod record owns (the daemon was killed between spawning one and
// saving it, or mid-teardown) are killed by pid and start time, so none outlives its pod unseen.
import { join } from "node:path";
import { findInfraProcesses, type FoundInfra } from "../oci/infra-scan.js";
import { processAlive, signalIdentity } from "../oci/proc.js";
import { logger } from "../util/log.js";
import type { PodContext } from "./context.js";

const log = logger("pods");
const ROUNDS = 3;
const GONE_WAIT_MS = 2000;

/** Returns how many orphans were killed. Call before serving, so no RunPodSandbox is in flight. */
export async function killOrphanInfras(ctx: PodContext): Promise<number> {
  const owned = new Set<string>();
  for (const pod of ctx.pods.values()) {
    const i = pod.rec.infra;
    if (i) owned.add(`${i.pid}:${i.startTime}`).add(`${i.monitorPid}:${i.monitorStartTime}`);
  }
  const pidnsDir = join(ctx.deps.dirs.pins, "pidns");
  const killed: FoundInfra[] = [];
  // A monitor killed between its fork and our scan can leave a catatonit the first scan missed.
  for (let round = 0; round < ROUNDS; round++) {
    const orphans = (await findInfraProcesses(pidnsDir, ctx.deps.dirs.infraRoot)).filter((p) => !owned.has(`${p.pid}:${p.startTime}`));
    if (orphans.length === 0) break;
    for (const p of orphans) {
      if (await signalIdentity(p, "SIGKILL")) {
        killed.push(p);
        log.warn({ pid: p.pid, kind: p.kind, pin: p.pin }, "killed an infra process no pod owns (left by a daemon that died mid-call)");
      }
    }
    const deadline = Date.now() + GONE_WAIT_MS;
    for (const p of orphans) {
      while ((await processAlive(p.pid, p.startTime)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    }
  }
  return killed.length;
}
