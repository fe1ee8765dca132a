// ListMetricDescriptors / ListPodSandboxMetrics: cAdvisor-named metrics (CPU, memory, filesystem,
// processes, network, PSI where the host has it) from the same cached snapshot as the stats RPCs.
import { existsSync } from "node:fs";
import { MetricType, type ContainerMetrics, type Metric, type MetricDescriptor, type PodSandboxMetrics } from "../../generated/runtime/v1/api.js";
import type { Pod } from "../../pods/record.js";
import type { Container } from "../record.js";
import type { Psi } from "./cgroup-read.js";
import type { ContainerFigures, PodFigures, Snapshot } from "./collector.js";

const BASE = ["id", "name", "image"];

interface Def {
  name: string;
  help: string;
  type: MetricType;
  extra?: string;
}

const CONTAINER_DEFS: Def[] = [
  { name: "container_cpu_usage_seconds_total", help: "Cumulative CPU time consumed, in whole seconds.", type: MetricType.COUNTER },
  { name: "container_memory_usage_bytes", help: "Current memory usage, including all memory regardless of when it was accessed.", type: MetricType.GAUGE },
  { name: "container_memory_working_set_bytes", help: "Current working set (usage minus inactive file cache).", type: MetricType.GAUGE },
  { name: "container_memory_rss", help: "Size of RSS (anonymous memory).", type: MetricType.GAUGE },
  { name: "container_memory_swap", help: "Container swap usage.", type: MetricType.GAUGE },
  { name: "container_spec_memory_limit_bytes", help: "Memory limit for the container (absent when unlimited).", type: MetricType.GAUGE },
  { name: "container_processes", help: "Number of processes running inside the container.", type: MetricType.GAUGE },
  { name: "container_fs_usage_bytes", help: "Bytes used by the container's writable layer.", type: MetricType.GAUGE, extra: "device" },
  { name: "container_fs_inodes_total", help: "Inodes used by the container's writable layer.", type: MetricType.GAUGE, extra: "device" },
];

const PSI_DEFS: Def[] = ["cpu", "memory", "io"].flatMap((r) => [
  { name: `container_pressure_${r}_waiting_seconds_total`, help: `Total time in whole seconds that some tasks waited for ${r} (PSI some).`, type: MetricType.COUNTER },
  { name: `container_pressure_${r}_stalled_seconds_total`, help: `Total time in whole seconds that all tasks stalled on ${r} (PSI full).`, type: MetricType.COUNTER },
]);

const POD_DEFS: Def[] = [
  { name: "container_network_receive_bytes_total", help: "Cumulative count of bytes received.", type: MetricType.COUNTER, extra: "interface" },
  { name: "container_network_transmit_bytes_total", help: "Cumulative count of bytes transmitted.", type: MetricType.COUNTER, extra: "interface" },
  { name: "container_network_receive_errors_total", help: "Cumulative count of errors encountered while receiving.", type: MetricType.COUNTER, extra: "interface" },
  { name: "container_network_transmit_errors_total", help: "Cumulative count of errors encountered while transmitting.", type: MetricType.COUNTER, extra: "interface" },
];

const SECOND = 1_000_000_000n;

export class MetricSet {
  /** Fixed at start: PSI series are described only where the kernel has PSI. */
  readonly descriptors: MetricDescriptor[];
  private readonly types = new Map<string, MetricType>();

  constructor(psi = existsSync("/proc/pressure/cpu")) {
    const defs = [...CONTAINER_DEFS, ...(psi ? PSI_DEFS : []), ...POD_DEFS];
    this.descriptors = defs.map((d) => ({ name: d.name, help: d.help, labelKeys: d.extra ? [...BASE, d.extra] : BASE }));
    for (const d of defs) this.types.set(d.name, d.type);
  }

  private metric(name: string, at: bigint, labels: string[], value: bigint | undefined): Metric[] {
    const type = this.types.get(name);
    if (type === undefined || value === undefined) return [];
    return [{ name, timestamp: at, metricType: type, labelValues: labels, value: { value } }];
  }

  container(c: Container, f: ContainerFigures | undefined, at: bigint, mountpoint: string): ContainerMetrics {
    const s = f?.sample;
    const labels = [c.rec.id, c.config.metadata?.name ?? "", c.rec.image.name];
    const psi = (r: string, p: Psi | undefined) => [
      ...this.metric(`container_pressure_${r}_waiting_seconds_total`, at, labels, p?.some && p.some.total / 1_000_000n),
      ...this.metric(`container_pressure_${r}_stalled_seconds_total`, at, labels, p?.full && p.full.total / 1_000_000n),
    ];
    const layer = f?.layer;
    const metrics = [
      ...this.metric("container_cpu_usage_seconds_total", at, labels, s?.cpuNs === undefined ? undefined : s.cpuNs / SECOND),
      ...this.metric("container_memory_usage_bytes", at, labels, s?.memoryUsage),
      ...this.metric("container_memory_working_set_bytes", at, labels, s?.workingSet ?? s?.memoryUsage),
      ...this.metric("container_memory_rss", at, labels, s?.rss),
      ...this.metric("container_memory_swap", at, labels, s?.swapUsage),
      ...this.metric("container_spec_memory_limit_bytes", at, labels, s?.memoryLimit),
      ...this.metric("container_processes", at, labels, s?.pids),
      ...this.metric("container_fs_usage_bytes", layer?.at ?? at, [...labels, mountpoint], layer && BigInt(layer.bytes)),
      ...this.metric("container_fs_inodes_total", layer?.at ?? at, [...labels, mountpoint], layer && BigInt(layer.inodes)),
      ...psi("cpu", s?.cpuPsi),
      ...psi("memory", s?.memoryPsi),
      ...psi("io", s?.ioPsi),
    ];
    return { containerId: c.rec.id, metrics };
  }

  pod(pod: Pod, f: PodFigures | undefined, containers: ContainerMetrics[], at: bigint): PodSandboxMetrics {
    const labels = [pod.rec.id, "POD", ""];
    const metrics = (f?.net ?? []).flatMap((i) => [
      ...this.metric("container_network_receive_bytes_total", at, [...labels, i.name], i.rxBytes),
      ...this.metric("container_network_transmit_bytes_total", at, [...labels, i.name], i.txBytes),
      ...this.metric("container_network_receive_errors_total", at, [...labels, i.name], i.rxErrors),
      ...this.metric("container_network_transmit_errors_total", at, [...labels, i.name], i.txErrors),
    ]);
    return { podSandboxId: pod.rec.id, metrics, containerMetrics: containers };
  }

  /** Every ready pod with its running containers' metrics, from one snapshot. */
  all(pods: Pod[], containersOf: (podId: string) => Container[], snap: Snapshot, mountpoint: string): PodSandboxMetrics[] {
    return pods
      .filter((p) => p.rec.phase === "ready")
      .map((p) =>
        this.pod(
          p,
          snap.pods.get(p.rec.id),
          containersOf(p.rec.id).map((c) => this.container(c, snap.containers.get(c.rec.id), snap.at, mountpoint)),
          snap.at,
        ),
      );
  }
}
