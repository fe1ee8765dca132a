// The container service: CreateContainer, Start, Stop, Remove, Status, List, ExecSync,
// ReopenContainerLog and resource updates over the in-memory index, plus the pod service's hooks.
import type {
  AttachRequest,
  ExecRequest,
  Container as CriContainer,
  ContainerFilter,
  ContainerStatus,
  ContainerStatusResponse,
  CreateContainerRequest,
  ExecSyncResponse,
  UpdateContainerResourcesRequest,
  UpdatePodSandboxResourcesRequest,
  CheckpointContainerRequest,
} from "../generated/runtime/v1/api.js";
import { CriuGate } from "../oci/criu.js";
import { checkpointContainer } from "./checkpoint.js";
import type { ContainerHooks } from "../pods/service.js";
import { logger } from "../util/log.js";
import { ContainerContext, type ContainerDeps } from "./context.js";
import { eventWatcher } from "./events.js";
import { createContainer, type CreateCaller } from "./create.js";
import { execSync, reopenLog } from "./exec.js";
import { attachUrl, execUrl, runAttach, runExec, type StreamIssuer } from "./stream.js";
import type { RemoteCommandSession, SessionResult } from "../streaming/remotecommand/session.js";
import { onExit } from "./exits.js";
import { MonitorSweep } from "./monitors.js";
import { listContainers } from "./list.js";
import { isVisible, type Container } from "./record.js";
import { askIfStarted, cleanUpLeftover, loadContainers } from "./recover.js";
import { removeContainer, removeResolved } from "./remove.js";
import { startContainer } from "./start.js";
import { containerStatus, statusResponse } from "./status.js";
import { stopContainer, stopResolved } from "./stop.js";
import { updateResources } from "./update.js";
import { applyPodResources } from "./pod-resources.js";
import { CgroupReader } from "./stats/cgroup-read.js";
import { StatsCollector } from "./stats/collector.js";
import { StatsRpc } from "./stats/rpc.js";

const log = logger("containers");

export class ContainerService implements ContainerHooks {
  readonly ctx: ContainerContext;
  private background: Promise<unknown> = Promise.resolve();
  readonly stats: StatsRpc;
  private streaming: StreamIssuer | undefined;
  private readonly exitListener;
  private readonly monitors: MonitorSweep;
  /** CRIU probed at the first CheckpointContainer, the answer kept. */
  private readonly criu = new CriuGate();

  private constructor(deps: ContainerDeps) {
    this.ctx = new ContainerContext(deps);
    this.ctx.watcher = eventWatcher(this.ctx);
    this.exitListener = onExit(this.ctx);
    this.monitors = new MonitorSweep(this.ctx);
    const pods = () => deps.pods.all();
    const reader = new CgroupReader(deps.hierarchies, deps.facts.cgroupMode === "v2");
    this.stats = new StatsRpc(this.ctx, new StatsCollector(this.ctx, reader, pods), pods);
  }

  /** Loads containers (listening for exits first, so none is missed) and reconciles them. */
  static async open(deps: ContainerDeps): Promise<ContainerService> {
    const s = new ContainerService(deps);
    deps.oci.exits.on("exit", s.exitListener);
    const { leftovers, unsure } = await loadContainers(s.ctx);
    await s.ctx.imageVolumes.sweep(); // before serving: a crash's stale image volumes go (a few ms)
    s.background = Promise.all([...leftovers.map((c) => cleanUpLeftover(s.ctx, c)), ...unsure.map((c) => askIfStarted(s.ctx, c))]);
    s.monitors.start();
    return s;
  }

  /** Whether a container's rootfs uses the layer (the image service's GC asks before it deletes one). */
  layerInUse(chainId: string): boolean {
    return this.ctx.layerInUse(chainId);
  }

  /** IDs of every container with a record (what the leftover sweep must keep). */
  recordedIds(): Set<string> {
    return new Set(this.ctx.deps.store.all().map((r) => r.id));
  }

  /** The streaming server the Exec and Attach URLs come from (set once it listens). */
  setStreaming(issuer: StreamIssuer): void {
    this.streaming = issuer;
  }

  execUrl(req: ExecRequest): Promise<string> {
    return execUrl(this.ctx, this.streaming, req);
  }

  attachUrl(req: AttachRequest): Promise<string> {
    return attachUrl(this.ctx, this.streaming, req);
  }

  runExec(req: ExecRequest, session: RemoteCommandSession): Promise<SessionResult> {
    return runExec(this.ctx, req, session);
  }

  runAttach(req: AttachRequest, session: RemoteCommandSession): Promise<SessionResult> {
    return runAttach(this.ctx, req, session);
  }

  create(req: CreateContainerRequest, caller?: CreateCaller): Promise<string> {
    return createContainer(this.ctx, req, caller);
  }

  start(ref: string, signal?: AbortSignal): Promise<void> {
    return startContainer(this.ctx, ref, signal);
  }

  stop(ref: string, timeoutSeconds: bigint): Promise<void> {
    return stopContainer(this.ctx, ref, timeoutSeconds);
  }

  remove(ref: string, signal?: AbortSignal): Promise<void> {
    return removeContainer(this.ctx, ref, signal);
  }

  status(ref: string, verbose: boolean): Promise<ContainerStatusResponse> {
    return statusResponse(this.ctx, ref, verbose);
  }

  list(filter: ContainerFilter | undefined): CriContainer[] {
    return listContainers(this.ctx, filter);
  }

  execSync(ref: string, cmd: readonly string[], timeoutSeconds: bigint): Promise<ExecSyncResponse> {
    return execSync(this.ctx, ref, cmd, timeoutSeconds);
  }

  reopenLog(ref: string): Promise<void> {
    return reopenLog(this.ctx, ref);
  }

  checkpoint(req: CheckpointContainerRequest): Promise<void> {
    return checkpointContainer(this.ctx, this.criu, req);
  }

  updateResources(req: UpdateContainerResourcesRequest): Promise<void> {
    return updateResources(this.ctx, req);
  }

  /** Best effort (CRI): NotFound for an unknown pod, otherwise limits that fail are only logged. */
  async updatePodResources(req: UpdatePodSandboxResourcesRequest): Promise<void> {
    const pod = this.ctx.deps.pods.get(req.podSandboxId);
    if (this.ctx.deps.cgroups.name !== "cgroupfs") return;
    await applyPodResources(pod.rec.id, pod.rec.cgroup.path, req.resources, this.ctx.deps.hierarchies, this.ctx.deps.facts.cgroupMode === "v2");
  }

  /** StopPodSandbox: every container of the pod is killed at once (containerd uses timeout 0 too). */
  async stopContainersOf(podId: string): Promise<void> {
    await this.eachOf(podId, (c) => stopResolved(this.ctx, c, 0));
  }

  /** PodSandboxStatus: the statuses of the pod's visible containers, from memory. */
  statusesOf(podId: string): ContainerStatus[] {
    return this.ctx.ofPod(podId).filter(isVisible).map(containerStatus);
  }

  runningPidsOf(podId: string): number[] {
    const running = this.ctx.ofPod(podId).filter((c) => c.rec.phase === "running" && c.rec.process);
    return running.sort((a, b) => (BigInt(a.rec.startedAt) < BigInt(b.rec.startedAt) ? -1 : 1)).map((c) => c.rec.process!.pid);
  }

  /** RemovePodSandbox: every container of the pod is removed. */
  async removeContainersOf(podId: string, signal?: AbortSignal): Promise<void> {
    await this.eachOf(podId, (c) => removeResolved(this.ctx, c, signal));
  }

  /** Each container under its lock: a leftover still being cleaned up at start holds its own lock, so
   * only this pod's leftovers are waited for, never another pod's (whose runtime may hang). */
  private async eachOf(podId: string, fn: (c: Container) => Promise<void>): Promise<void> {
    const results = await Promise.allSettled(
      this.ctx.ofPod(podId).map((c) =>
        this.ctx.locks.run(c.rec.id, async () => {
          const cur = this.ctx.containers.get(c.rec.id);
          if (cur) await fn(cur);
        }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  async close(): Promise<void> {
    this.ctx.deps.oci.exits.off("exit", this.exitListener);
    await this.monitors.stop();
    await this.background.catch(() => undefined);
    log.debug("container service closed");
  }
}
