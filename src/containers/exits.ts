// A container's end, recorded once: exit code, finish time and CRI reason (Completed, Error,
// OOMKilled) from the exit conmon wrote, pushed by the OCI driver's exit watcher (no polling).
import type { ContainerExit } from "../oci/exits.js";
import { logger } from "../util/log.js";
import type { ContainerContext } from "./context.js";
import type { Container } from "./record.js";

const log = logger("containers");

export const START_ERROR_CODE = 128;

export function reasonFor(code: number, oomKilled: boolean): string {
  if (oomKilled) return "OOMKilled";
  return code === 0 ? "Completed" : "Error";
}

/** Marks the container exited (once); later reports of the same exit change nothing. */
export function recordExit(ctx: ContainerContext, c: Container, exit: { code: number; timestampNs: bigint }, oomKilled: boolean, message = ""): void {
  const rec = c.rec;
  if (rec.phase === "exited" || rec.phase === "creating") return;
  // Removed meanwhile (an exit reported while RemoveContainer ran): saving would bring it back.
  if (ctx.containers.get(rec.id) !== c) return;
  rec.phase = "exited";
  rec.exitCode = exit.code;
  rec.finishedAt = exit.timestampNs.toString();
  // A container killed before it ever started has no start time; CRI wants finished >= started.
  if (rec.startedAt === "0" && c.startRequested) rec.startedAt = rec.finishedAt;
  rec.reason = reasonFor(exit.code, oomKilled);
  rec.message = message;
  ctx.save(c);
  log.debug({ id: rec.id, code: exit.code, reason: rec.reason }, "container exited");
}

/** A start that failed (or can never happen): exit code 128, reason StartError, as containerd records it. */
export function recordStartError(ctx: ContainerContext, c: Container, exit: { timestampNs: bigint }, message: string): void {
  recordExit(ctx, c, { code: START_ERROR_CODE, timestampNs: exit.timestampNs }, false, message);
  if (c.rec.phase !== "exited" || c.rec.exitCode !== START_ERROR_CODE) return;
  c.rec.reason = "StartError";
  ctx.save(c);
}

/** The exit watcher's listener: looks the container up and records its exit with the OOM flag. */
export function onExit(ctx: ContainerContext): (e: ContainerExit) => void {
  return (e) => {
    const c = ctx.containers.get(e.id);
    if (!c || c.rec.phase === "exited" || c.rec.phase === "creating") return;
    void ctx.deps.oci
      .oomKilled(e.id)
      .catch(() => false)
      .then((oom) => recordExit(ctx, c, e, oom))
      .catch((err: unknown) => log.warn({ id: e.id, err: (err as Error).message }, "recording an exit failed"));
  };
}
