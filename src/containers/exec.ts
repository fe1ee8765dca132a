// ExecSync and ReopenContainerLog: both need a running container and go straight to the OCI
// driver (runc exec with capped output and a timeout that kills the exec's whole tree; conmon's ctl fifo).
import { failedPrecondition, invalid } from "../errors.js";
import type { ExecSyncResponse } from "../generated/runtime/v1/api.js";
import { MAX_EXEC_OUTPUT } from "../oci/exec-sync.js";
import type { ContainerContext } from "./context.js";
import type { Container } from "./record.js";

function requireRunning(c: Container, what: string): void {
  if (c.rec.phase !== "running") throw failedPrecondition(`${what}: container "${c.rec.id}" is ${c.rec.phase}, not running`);
}

export async function execSync(ctx: ContainerContext, ref: string, cmd: readonly string[], timeoutSeconds: bigint): Promise<ExecSyncResponse> {
  if (cmd.length === 0) throw invalid("ExecSync: cmd is empty; give the command to run");
  if (timeoutSeconds < 0n) throw invalid(`ExecSync: timeout ${timeoutSeconds} must not be negative`);
  const c = ctx.get(ref);
  requireRunning(c, "ExecSync");
  const oci = ctx.deps.oci;
  if (c.rec.process && !oci.known(c.rec.id)) await oci.adopt(c.rec.process);
  const r = await oci.execSync(c.rec.id, cmd, { timeoutMs: Number(timeoutSeconds) * 1000, maxOutputBytes: MAX_EXEC_OUTPUT });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
}

export async function reopenLog(ctx: ContainerContext, ref: string): Promise<void> {
  const c = ctx.get(ref);
  requireRunning(c, "ReopenContainerLog");
  if (!c.rec.logPath) throw failedPrecondition(`ReopenContainerLog: container "${c.rec.id}" has no log file (its pod has no log_directory or it has no log_path)`);
  const oci = ctx.deps.oci;
  if (c.rec.process && !oci.known(c.rec.id)) await oci.adopt(c.rec.process);
  await oci.reopenLog(c.rec.id);
}
