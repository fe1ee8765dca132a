// The pod sandbox service: RunPodSandbox (idempotent per pod metadata), Stop, Remove, Status
// and List over the in-memory index, plus what the container service needs from a pod.
import type { ListPodSandboxRequest, PodSandbox, PodSandboxStatus, PodSandboxStatusResponse, RunPodSandboxRequest } from "../generated/runtime/v1/api.js";
import { BerthError, Code } from "../errors.js";
import { logger } from "../util/log.js";
import { PodContext, type PodDeps } from "./context.js";
import { listPods } from "./list.js";
import { isVisible, type Pod } from "./record.js";
import { cleanUpLeftover, loadPods } from "./recover.js";
import { killOrphanInfras } from "./infra-orphans.js";
import { removePodById } from "./remove.js";
import { sweepLogDirs } from "./log-dirs.js";
import { runPod } from "./run.js";
import { podSpec } from "./spec.js";
import { podStatus, sandboxStatus } from "./status.js";
import { podEventWatcher } from "./events.js";
import { finishInterruptedStops, stopPodById } from "./stop.js";

const log = logger("pods");

export type { ContainerHooks, PodDeps } from "./context.js";

export class PodService {
  private readonly ctx: PodContext;
  /** RunPodSandbox calls in flight, by pod key: a kubelet retry joins the first call. */
  private readonly inflight = new Map<string, Promise<string>>();
  private background: Promise<unknown> = Promise.resolve();
  /** Handlers whose start-up probe has answered (deps.handlersReady). */
  private readonly handlersProbed = new Set<string>();

  private constructor(deps: PodDeps) {
    this.ctx = new PodContext(deps);
    this.ctx.watcher = podEventWatcher(this.ctx);
  }

  /** Loads pods from the store; half-made ones are cleaned up in the background. */
  static async open(deps: PodDeps): Promise<PodService> {
    const s = new PodService(deps);
    const leftovers = await loadPods(s.ctx);
    await killOrphanInfras(s.ctx).catch((err: unknown) => log.warn({ err: (err as Error).message }, "looking for orphaned infra processes failed"));
    s.background = Promise.all(leftovers.map((p) => cleanUpLeftover(s.ctx, p)));
    return s;
  }

  /** Once the container service behind `deps.containers` is up: finishes, in the background, Stops a daemon death cut short (they need the containers). */
  containersReady(): void {
    const prior = this.background;
    this.background = Promise.all([prior, finishInterruptedStops(this.ctx)]);
  }

  /** Same metadata (name, namespace, uid, attempt) gives the same pod: in flight, made, or retried after a failure. */
  run(req: RunPodSandboxRequest): Promise<string> {
    // The handlers' start-up probe runs while the daemon already serves: a pod waits for its own
    // handler's verdict (not for another handler's runtime, which may hang until its probe times out).
    const handler = req.runtimeHandler || this.ctx.deps.defaultHandler;
    if (this.ctx.deps.handlersReady && !this.handlersProbed.has(handler)) {
      return this.ctx.deps.handlersReady(handler).then(() => {
        this.handlersProbed.add(handler);
        return this.run(req);
      });
    }
    const spec = podSpec(req, {
      defaultHandler: this.ctx.deps.defaultHandler,
      knownHandlers: this.ctx.deps.knownHandlers,
      ...(this.ctx.deps.usernsUnavailable ? { usernsUnavailable: this.ctx.deps.usernsUnavailable } : {}),
      ...(this.ctx.deps.unusableHandlers ? { unusableHandlers: this.ctx.deps.unusableHandlers } : {}),
      podCgroup: (parent, uid) => this.ctx.deps.cgroups.podCgroup(parent, uid),
    });
    const same = [...this.ctx.pods.values()].find((p) => p.key === spec.key && isVisible(p));
    if (same?.rec.phase === "ready") return Promise.resolve(same.rec.id);
    if (same) {
      // Not a retry kubelet can use: the sandbox is stopped (kubelet makes a new attempt instead).
      const m = spec.config.metadata!;
      return Promise.reject(new BerthError(Code.ALREADY_EXISTS,
        `pod sandbox "${same.rec.id}" (${m.namespace}/${m.name}, attempt ${m.attempt}) already exists and is NOTREADY (${same.rec.reason ?? "stopped"}); remove it first or run a new attempt`));
    }
    const pending = this.inflight.get(spec.key);
    if (pending) return pending;
    const work = (async () => {
      // Leftovers of an earlier failed attempt of this pod go first, so their names and addresses are free.
      const failed = [...this.ctx.pods.values()].filter((p) => p.key === spec.key && p.rec.phase === "failed");
      for (const p of failed) await cleanUpLeftover(this.ctx, p);
      return runPod(this.ctx, spec);
    })().finally(() => this.inflight.delete(spec.key));
    this.inflight.set(spec.key, work);
    return work;
  }

  /** `fn` runs at the start of every Stop (and release) of a pod, before its network goes. */
  onStop(fn: (podId: string) => Promise<void>): void {
    this.ctx.stopListeners.push(fn);
  }

  stop(ref: string): Promise<void> {
    return stopPodById(this.ctx, ref);
  }

  /** `signal`: the caller gave up (deadline, cancel): a runtime `delete` still running is stopped and the rest kept for a retry. */
  remove(ref: string, signal?: AbortSignal): Promise<void> {
    return removePodById(this.ctx, ref, signal);
  }

  status(ref: string, verbose: boolean): PodSandboxStatusResponse {
    return podStatus(this.ctx, ref, verbose);
  }

  /** A visible pod's CRI status without its containers (container events carry those). */
  sandboxStatus(id: string): PodSandboxStatus | undefined {
    const pod = this.ctx.pods.get(id);
    return pod && isVisible(pod) ? sandboxStatus(pod) : undefined;
  }

  list(req: ListPodSandboxRequest): PodSandbox[] {
    return listPods(this.ctx, req.filter);
  }

  /** A visible pod by ID or unique prefix (NotFound otherwise), for the container service. */
  get(ref: string): Pod {
    return this.ctx.get(ref);
  }

  /** Every pod id with a record, hidden and unreadable ones included (what GC must keep). */
  recordedIds(): Set<string> {
    return this.ctx.deps.store.ids();
  }

  /** GC: log directories Berth made for pods it no longer has (at start and on the GC schedule). */
  async collect(): Promise<void> {
    const logDirs = this.ctx.deps.dirs.logDirs;
    if (logDirs) await sweepLogDirs(logDirs, () => this.recordedIds(), (dir) => [...this.ctx.pods.values()].find((p) => p.config.logDirectory === dir)?.rec.id);
  }

  /** Lets in-flight creations and background cleanups finish (bounded by their own timeouts). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight.values(), this.background]);
    log.debug("pod service closed");
  }
}
