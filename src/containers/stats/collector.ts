// One cached scan of every container's and pod's cgroup (plus pod network counters and writable
// layer sizes) shared by all stats callers: at most one scan a second, concurrent callers share it.
import { join } from "node:path";
import { diskUsage, type Usage } from "../../util/disk-usage.js";
import { logger } from "../../util/log.js";
import type { Pod } from "../../pods/record.js";
import type { ContainerContext } from "../context.js";
import { isVisible } from "../record.js";
import type { CgroupReader, CgroupSample } from "./cgroup-read.js";
import { readNetDev, type InterfaceCounters } from "./net-dev.js";

const log = logger("stats");
const MAX_AGE_MS = 1000;
/** Walking a writable layer is costly; kubelet's eviction manager is fine with this age. */
const LAYER_MAX_AGE_MS = 10_000;
const YIELD_EVERY = 8;

export interface Figures {
  sample?: CgroupSample;
  /** From this scan and the previous one of the same cgroup. */
  nanoCores?: bigint;
}

export interface PodFigures extends Figures {
  net?: InterfaceCounters[];
}

export interface ContainerFigures extends Figures {
  layer?: Usage & { at: bigint };
}

export interface Snapshot {
  /** Nanoseconds since the epoch. */
  at: bigint;
  containers: Map<string, ContainerFigures>;
  pods: Map<string, PodFigures>;
}

export class StatsCollector {
  private last: { ms: number; snap: Snapshot } | undefined;
  private inflight: Promise<Snapshot> | undefined;
  private readonly cpu = new Map<string, { ns: bigint; at: bigint }>();
  private readonly layers = new Map<string, Usage & { at: bigint; ms: number }>();

  constructor(
    private readonly ctx: ContainerContext,
    private readonly reader: CgroupReader,
    private readonly pods: () => Pod[],
  ) {}

  snapshot(): Promise<Snapshot> {
    if (this.last && performance.now() - this.last.ms < MAX_AGE_MS) return Promise.resolve(this.last.snap);
    this.inflight ??= this.scan()
      .then((snap) => {
        this.last = { ms: performance.now(), snap };
        return snap;
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private nanoCores(key: string, sample: CgroupSample | undefined, at: bigint): bigint | undefined {
    if (sample?.cpuNs === undefined) return undefined;
    const prev = this.cpu.get(key);
    this.cpu.set(key, { ns: sample.cpuNs, at });
    if (!prev || at <= prev.at || sample.cpuNs < prev.ns) return undefined;
    return ((sample.cpuNs - prev.ns) * 1_000_000_000n) / (at - prev.at);
  }

  private async layer(id: string, upper: string): Promise<(Usage & { at: bigint }) | undefined> {
    const cached = this.layers.get(id);
    if (cached && performance.now() - cached.ms < LAYER_MAX_AGE_MS) return cached;
    try {
      const u = await diskUsage(upper);
      const v = { ...u, at: BigInt(Date.now()) * 1_000_000n, ms: performance.now() };
      this.layers.set(id, v);
      return v;
    } catch {
      return cached;
    }
  }

  private async scan(): Promise<Snapshot> {
    const t0 = performance.now();
    const at = BigInt(Date.now()) * 1_000_000n;
    const snap: Snapshot = { at, containers: new Map(), pods: new Map() };
    const live = new Set<string>();
    const netPid = new Map<string, number>();
    const layers: Promise<void>[] = [];
    let n = 0;
    // Reads are synchronous (cheap, see cgroup-read.ts); yield every few cgroups so calls keep flowing.
    const breathe = async () => {
      if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    };
    for (const c of [...this.ctx.containers.values()]) {
      if (!isVisible(c)) continue;
      live.add(c.rec.id);
      const running = c.rec.phase === "running" && c.rec.process ? c.rec.process : undefined;
      if (running) netPid.set(c.rec.podId, running.pid);
      const sample = running ? this.reader.read(c.rec.cgroupPath) : undefined;
      const nanoCores = this.nanoCores(c.rec.cgroupPath, sample, at);
      const figures: ContainerFigures = { ...(sample ? { sample } : {}), ...(nanoCores !== undefined ? { nanoCores } : {}) };
      snap.containers.set(c.rec.id, figures);
      layers.push(this.layer(c.rec.id, join(c.rec.paths.dir, "upper")).then((layer) => void (layer && (figures.layer = layer))));
      await breathe();
    }
    for (const pod of this.pods()) {
      if (pod.rec.phase !== "ready") continue;
      const pid = netPid.get(pod.rec.id) ?? (pod.rec.ns.network === "pod" ? pod.rec.infra?.pid : undefined);
      const sample = this.reader.read(pod.rec.cgroup.path);
      const net = pid ? readNetDev(pid) : undefined;
      const nanoCores = this.nanoCores(pod.rec.cgroup.path, sample, at);
      snap.pods.set(pod.rec.id, { sample, ...(nanoCores !== undefined ? { nanoCores } : {}), ...(net ? { net } : {}) });
      await breathe();
    }
    await Promise.all(layers);
    for (const id of this.layers.keys()) if (!live.has(id)) this.layers.delete(id);
    for (const [key, v] of this.cpu) if (v.at !== at) this.cpu.delete(key);
    log.debug({ containers: snap.containers.size, pods: snap.pods.size, ms: Math.round(performance.now() - t0) }, "stats scan");
    return snap;
  }
}
