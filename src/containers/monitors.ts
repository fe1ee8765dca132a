// One periodic sweep finds containers whose conmon died while they kept running: they stay
// reported as running while their process lives, and their end is recorded once it comes.
import { logger } from "../util/log.js";
import type { ContainerContext } from "./context.js";
import { recordExit } from "./exits.js";

const log = logger("containers");

/** How often the sweep looks at each live container's conmon (one /proc read each). */
export const MONITOR_SWEEP_MS = 1000;

export class MonitorSweep {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Containers already reported as having lost their conmon (logged once). */
  readonly #lost = new Set<string>();

  constructor(private readonly ctx: ContainerContext) {}

  start(intervalMs = MONITOR_SWEEP_MS): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.sweep()
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, "monitor sweep failed"))
        .finally(() => (this.#running = undefined));
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One pass over created and running containers. */
  async sweep(): Promise<void> {
    const oci = this.ctx.deps.oci;
    for (const c of [...this.ctx.containers.values()]) {
      const { rec } = c;
      if ((rec.phase !== "running" && rec.phase !== "created") || !rec.process) {
        this.#lost.delete(rec.id);
        continue;
      }
      if (!oci.known(rec.id)) await oci.adopt(rec.process);
      if (await oci.monitorAlive(rec.id)) {
        this.#lost.delete(rec.id);
        continue;
      }
      const end = await oci.unmonitoredEnd(rec.id).catch(() => undefined);
      if (!end) {
        if (!this.#lost.has(rec.id)) {
          this.#lost.add(rec.id);
          log.warn({ id: rec.id, conmonPid: rec.process.conmonPid, pid: rec.process.pid }, "the container's monitor (conmon) died; its process still runs and is watched through /proc");
        }
        continue;
      }
      this.#lost.delete(rec.id);
      const oom = await oci.oomKilled(rec.id).catch(() => false);
      const message = end.known ? "its monitor (conmon) had died; the exit was read from /proc" : "its monitor (conmon) had died and the process was reaped elsewhere: the exit code is unknown";
      log.warn({ id: rec.id, code: end.exit.code, known: end.known }, "recorded the exit of a container that had lost its monitor");
      recordExit(this.ctx, c, end.exit, oom, message);
    }
  }
}
