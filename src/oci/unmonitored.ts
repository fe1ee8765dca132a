// A container whose conmon died while it kept running has nobody to write its exit file: this
// learns its end from /proc instead (the zombie's wait status while it lasts, else "unknown").
import { processAlive, zombieExitCode } from "./proc.js";
import type { ContainerExit } from "./exits.js";
import type { ContainerProcess } from "./container-process.js";

/** The code reported when the status could not be learned (runc's and CRI-O's "unknown"). */
export const UNKNOWN_EXIT_CODE = 255;

export interface UnmonitoredEnd {
  exit: ContainerExit;
  /** False when the process was reaped by someone else before its status could be read. */
  known: boolean;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** Whether the container's conmon still runs (a reused pid does not count). */
export function monitorAlive(rec: ContainerProcess): Promise<boolean> {
  return processAlive(rec.conmonPid, rec.conmonStartTime || undefined);
}

/**
 * The end of a container whose conmon is gone, once its process has ended: the exit file conmon
 * may still have written, the zombie's status (an orphan goes to pid 1 or a subreaper, which may
 * not have reaped it yet), `ifGone` (e.g. 137 after Berth's own SIGKILL), or unknown.
 * Undefined while the process still runs.
 */
export async function unmonitoredEnd(
  rec: ContainerProcess,
  readExit: () => Promise<ContainerExit | undefined>,
  ifGone?: number,
): Promise<UnmonitoredEnd | undefined> {
  const written = await readExit();
  if (written) return { exit: written, known: true };
  if (rec.pidStartTime) {
    const code = await zombieExitCode(rec.pid, rec.pidStartTime);
    if (code !== undefined) return { exit: { id: rec.id, code, timestampNs: nowNs() }, known: true };
  }
  if (await processAlive(rec.pid, rec.pidStartTime || undefined)) return undefined;
  // Between the two reads conmon (if it was only slow) may have written the file after all.
  const late = await readExit();
  if (late) return { exit: late, known: true };
  if (ifGone !== undefined) return { exit: { id: rec.id, code: ifGone, timestampNs: nowNs() }, known: true };
  return { exit: { id: rec.id, code: UNKNOWN_EXIT_CODE, timestampNs: nowNs() }, known: false };
}
