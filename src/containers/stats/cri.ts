// Turns a stats snapshot into CRI messages: CpuUsage, MemoryUsage, SwapUsage, IoUsage (PSI),
// the writable layer's FilesystemUsage, and a pod's network and process figures.
import type {
  ContainerStats,
  CpuUsage,
  IoUsage,
  MemoryUsage,
  NetworkUsage,
  PodSandboxStats,
  PsiStats,
  SwapUsage,
  UInt64Value,
} from "../../generated/runtime/v1/api.js";
import type { Pod } from "../../pods/record.js";
import type { Container } from "../record.js";
import type { Psi } from "./cgroup-read.js";
import type { Figures, PodFigures, Snapshot } from "./collector.js";

const u64 = (v: bigint | undefined): UInt64Value | undefined => (v === undefined ? undefined : { value: v });

function psi(p: Psi | undefined): PsiStats | undefined {
  if (!p) return undefined;
  const d = (x: Psi["some"]) => (x ? { Total: x.total, Avg10: x.avg10, Avg60: x.avg60, Avg300: x.avg300 } : undefined);
  return { Full: d(p.full), Some: d(p.some) };
}

export function cpuUsage(f: Figures | undefined, at: bigint): CpuUsage | undefined {
  const s = f?.sample;
  if (s?.cpuNs === undefined) return undefined;
  return { timestamp: at, usageCoreNanoSeconds: u64(s.cpuNs), usageNanoCores: u64(f?.nanoCores), psi: psi(s.cpuPsi) };
}

export function memoryUsage(f: Figures | undefined, at: bigint): MemoryUsage | undefined {
  const s = f?.sample;
  if (s?.memoryUsage === undefined) return undefined;
  const ws = s.workingSet ?? s.memoryUsage;
  const available = s.memoryLimit === undefined ? undefined : s.memoryLimit > ws ? s.memoryLimit - ws : 0n;
  return {
    timestamp: at,
    workingSetBytes: u64(ws),
    availableBytes: u64(available),
    usageBytes: u64(s.memoryUsage),
    rssBytes: u64(s.rss),
    pageFaults: u64(s.pageFaults),
    majorPageFaults: u64(s.majorPageFaults),
    psi: psi(s.memoryPsi),
  };
}

function swapUsage(f: Figures | undefined, at: bigint): SwapUsage | undefined {
  const s = f?.sample;
  if (s?.swapUsage === undefined) return undefined;
  const avail = s.swapLimit === undefined ? undefined : s.swapLimit > s.swapUsage ? s.swapLimit - s.swapUsage : 0n;
  return { timestamp: at, swapUsageBytes: u64(s.swapUsage), swapAvailableBytes: u64(avail) };
}

function ioUsage(f: Figures | undefined, at: bigint): IoUsage | undefined {
  const p = psi(f?.sample?.ioPsi);
  return p ? { timestamp: at, psi: p } : undefined;
}

export function containerStats(c: Container, snap: Snapshot, layerMountpoint: string): ContainerStats {
  const f = snap.containers.get(c.rec.id);
  const layer = f?.layer;
  return {
    attributes: { id: c.rec.id, metadata: c.config.metadata, labels: c.config.labels, annotations: c.config.annotations },
    cpu: cpuUsage(f, snap.at),
    memory: memoryUsage(f, snap.at),
    writableLayer: layer
      ? { timestamp: layer.at, fsId: { mountpoint: layerMountpoint }, usedBytes: u64(BigInt(layer.bytes)), inodesUsed: u64(BigInt(layer.inodes)) }
      : undefined,
    swap: swapUsage(f, snap.at),
    io: ioUsage(f, snap.at),
  };
}

function network(f: PodFigures | undefined, at: bigint): NetworkUsage | undefined {
  if (!f?.net) return undefined;
  const interfaces = f.net.map((i) => ({ name: i.name, rxBytes: u64(i.rxBytes), rxErrors: u64(i.rxErrors), txBytes: u64(i.txBytes), txErrors: u64(i.txErrors) }));
  return { timestamp: at, defaultInterface: interfaces.find((i) => i.name === "eth0") ?? interfaces[0], interfaces };
}

export function podStats(pod: Pod, containers: ContainerStats[], snap: Snapshot): PodSandboxStats {
  const f = snap.pods.get(pod.rec.id);
  return {
    attributes: { id: pod.rec.id, metadata: pod.config.metadata, labels: pod.config.labels, annotations: pod.config.annotations },
    linux: {
      cpu: cpuUsage(f, snap.at),
      memory: memoryUsage(f, snap.at),
      network: network(f, snap.at),
      process: f?.sample?.pids !== undefined ? { timestamp: snap.at, processCount: u64(f.sample.pids) } : undefined,
      containers,
      io: ioUsage(f, snap.at),
    },
    windows: undefined,
  };
}
