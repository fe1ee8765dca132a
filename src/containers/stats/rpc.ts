// The four stats RPCs over one shared snapshot: ContainerStats, ListContainerStats,
// PodSandboxStats and ListPodSandboxStats, with CRI's ID (or unique prefix) and label filters,
// and the metric RPCs (ListMetricDescriptors, ListPodSandboxMetrics) over the same snapshot.
import type { ContainerStats, ContainerStatsFilter, PodSandboxStats, PodSandboxStatsFilter } from "../../generated/runtime/v1/api.js";
import { filterMatch } from "../../util/ids.js";
import type { Pod } from "../../pods/record.js";
import type { ContainerContext } from "../context.js";
import { select } from "../list.js";
import type { StatsCollector } from "./collector.js";
import { containerStats, podStats } from "./cri.js";
import { MetricSet } from "./metrics.js";
import type { MetricDescriptor, PodSandboxMetrics } from "../../generated/runtime/v1/api.js";

export class StatsRpc {
  private readonly metrics = new MetricSet();

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
    const all = this.pods();
    // A prefix names one pod or none, as in ListPodSandbox (an ambiguous one lists nothing).
    const id = filter?.id ? filterMatch(filter.id, () => all.map((p) => p.rec.id)) : "";
    if (id === undefined) return [];
    const selector = Object.entries(filter?.labelSelector ?? {});
    const pods = all.filter((p) => p.rec.phase === "ready" && (!id || p.rec.id === id) && !selector.some(([k, v]) => p.config.labels[k] !== v));
    return Promise.all(pods.map((p) => this.podStats(p)));
  }

  /** ListMetricDescriptors: the same list for the daemon's life. */
  metricDescriptors(): MetricDescriptor[] {
    return this.metrics.descriptors;
  }

  /** ListPodSandboxMetrics: ready pods and their running containers. */
  async podMetrics(): Promise<PodSandboxMetrics[]> {
    const snap = await this.collector.snapshot();
    const running = (podId: string) => select(this.ctx, { podSandboxId: podId }).filter((c) => c.rec.phase === "running");
    return this.metrics.all(this.pods(), running, snap, this.ctx.deps.dirs.data);
  }

  private async podStats(pod: Pod): Promise<PodSandboxStats> {
    const snap = await this.collector.snapshot();
    const containers = select(this.ctx, { podSandboxId: pod.rec.id })
      .filter((c) => c.rec.phase === "running")
      .map((c) => containerStats(c, snap, this.ctx.deps.dirs.data));
    return podStats(pod, containers, snap);
  }
}
