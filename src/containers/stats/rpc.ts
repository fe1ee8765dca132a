// The four stats RPCs over one shared snapshot: ContainerStats, ListContainerStats,
// PodSandboxStats and ListPodSandboxStats, with CRI's ID-prefix and label filters.
import type { ContainerStats, ContainerStatsFilter, PodSandboxStats, PodSandboxStatsFilter } from "../../generated/runtime/v1/api.js";
import type { Pod } from "../../pods/record.js";
import type { ContainerContext } from "../context.js";
import { select } from "../list.js";
import type { StatsCollector } from "./collector.js";
import { containerStats, podStats } from "./cri.js";

export class StatsRpc {
  constructor(
    private readonly ctx: ContainerContext,
    private readonly collector: StatsCollector,
    private readonly pods: () => Pod[],
  ) {}

  async container(ref: string): Promise<ContainerStats> {
    const c = this.ctx.get(ref);
    return containerStats(c, await this.collector.snapshot(), this.ctx.deps.dirs.data);
  }

  async listContainers(filter: ContainerStatsFilter | undefined): Promise<ContainerStats[]> {
    const snap = await this.collector.snapshot();
    return select(this.ctx, filter).map((c) => containerStats(c, snap, this.ctx.deps.dirs.data));
  }

  async pod(ref: string): Promise<PodSandboxStats> {
    const pod = this.ctx.deps.pods.get(ref);
    return this.podStats(pod);
  }

  async listPods(filter: PodSandboxStatsFilter | undefined): Promise<PodSandboxStats[]> {
    const id = filter?.id.toLowerCase() ?? "";
    const selector = Object.entries(filter?.labelSelector ?? {});
    const pods = this.pods().filter(
      (p) => p.rec.phase === "ready" && (!id || p.rec.id.startsWith(id)) && !selector.some(([k, v]) => p.config.labels[k] !== v),
    );
    return Promise.all(pods.map((p) => this.podStats(p)));
  }

  private async podStats(pod: Pod): Promise<PodSandboxStats> {
    const snap = await this.collector.snapshot();
    const containers = select(this.ctx, { podSandboxId: pod.rec.id })
      .filter((c) => c.rec.phase === "running")
      .map((c) => containerStats(c, snap, this.ctx.deps.dirs.data));
    return podStats(pod, containers, snap);
  }
}
