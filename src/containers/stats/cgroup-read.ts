// One cgroup's usage figures, read from cgroupfs: CPU time, memory (usage, working set, rss,
// faults, limit), swap, process count and PSI — from the v1 controllers or the v2 files.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Hierarchy } from "../../oci/cgroups-hierarchies.js";

export interface Psi {
  some?: { total: bigint; avg10: number; avg60: number; avg300: number };
  full?: { total: bigint; avg10: number; avg60: number; avg300: number };
}

export interface CgroupSample {
  /** Total CPU time in nanoseconds. */
  cpuNs?: bigint;
  memoryUsage?: bigint;
  /** usage − inactive_file (what kubelet evicts on), never below 0. */
  workingSet?: bigint;
  rss?: bigint;
  pageFaults?: bigint;
  majorPageFaults?: bigint;
  /** The memory limit; undefined when unlimited. */
  memoryLimit?: bigint;
  swapUsage?: bigint;
  swapLimit?: bigint;
  pids?: bigint;
  cpuPsi?: Psi;
  memoryPsi?: Psi;
  ioPsi?: Psi;
}

// Anything at or above this is the kernel's "max" (v1 writes PAGE_COUNTER_MAX pages as bytes).
const UNLIMITED = 1n << 60n;

/**
 * cgroup files are small and in memory: a synchronous read costs ~15 µs against ~150 µs for
 * the four thread-pool hops of an async one (a 100-pod scan: ~15 ms of CPU instead of ~150 ms
 * wall). The collector yields to the event loop between cgroups, so no call waits long.
 */
function text(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function num(s: string | undefined): bigint | undefined {
  const t = s?.trim();
  if (t === undefined || !/^\d+$/.test(t)) return undefined;
  return BigInt(t);
}

/** "key value" lines (memory.stat, cpu.stat). */
export function parseFlat(s: string | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (s ?? "").split("\n")) {
    const [k, v] = line.split(" ");
    if (k && v && /^\d+$/.test(v)) out.set(k, BigInt(v));
  }
  return out;
}

/** A PSI file: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" (and "full ..."). */
export function parsePsi(s: string | undefined): Psi | undefined {
  if (!s) return undefined;
  const out: Psi = {};
  for (const line of s.split("\n")) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== "some" && kind !== "full") continue;
    const f = Object.fromEntries(fields.map((x) => x.split("=") as [string, string]));
    out[kind] = { total: BigInt(/^\d+$/.test(f["total"] ?? "") ? f["total"]! : "0"), avg10: Number(f["avg10"] ?? 0), avg60: Number(f["avg60"] ?? 0), avg300: Number(f["avg300"] ?? 0) };
  }
  return out.some || out.full ? out : undefined;
}

const limited = (v: bigint | undefined): bigint | undefined => (v !== undefined && v < UNLIMITED ? v : undefined);
const minus = (a: bigint, b: bigint): bigint => (a > b ? a - b : 0n);

export class CgroupReader {
  private readonly v1: Map<string, string>;
  private readonly v2: string | undefined;

  constructor(hierarchies: readonly Hierarchy[], pureV2: boolean) {
    this.v1 = new Map();
    for (const h of hierarchies) if (h.kind === "v1") for (const c of h.controllers) this.v1.set(c, h.mount);
    this.v2 = pureV2 ? hierarchies.find((h) => h.kind === "v2")?.mount : undefined;
  }

  read(path: string): CgroupSample {
    return this.v2 !== undefined ? this.readV2(join(this.v2, path)) : this.readV1(path);
  }

  private readV1(path: string): CgroupSample {
    const at = (ctl: string, file: string): string | undefined => {
      const m = this.v1.get(ctl);
      return m === undefined ? undefined : join(m, path, file);
    };
    const read = (ctl: string, file: string) => {
      const p = at(ctl, file);
      return p === undefined ? undefined : text(p);
    };
    const cpu = read("cpuacct", "cpuacct.usage");
    const usage = read("memory", "memory.usage_in_bytes");
    const stat = usage === undefined ? undefined : read("memory", "memory.stat");
    const memsw = usage === undefined ? undefined : read("memory", "memory.memsw.usage_in_bytes");
    const pids = read("pids", "pids.current");
    const out: CgroupSample = {};
    const cpuNs = num(cpu);
    if (cpuNs !== undefined) out.cpuNs = cpuNs;
    const mem = num(usage);
    const s = parseFlat(stat);
    if (mem !== undefined) {
      out.memoryUsage = mem;
      out.workingSet = minus(mem, s.get("total_inactive_file") ?? 0n);
      out.rss = s.get("total_rss") ?? 0n;
      out.pageFaults = s.get("total_pgfault") ?? 0n;
      out.majorPageFaults = s.get("total_pgmajfault") ?? 0n;
      const limit = limited(s.get("hierarchical_memory_limit"));
      if (limit !== undefined) out.memoryLimit = limit;
      const sw = num(memsw);
      if (sw !== undefined) {
        out.swapUsage = minus(sw, mem);
        const swLimit = limited(s.get("hierarchical_memsw_limit"));
        if (swLimit !== undefined) out.swapLimit = minus(swLimit, limit ?? 0n);
      }
    }
    const p = num(pids);
    if (p !== undefined) out.pids = p;
    return out;
  }

  private readV2(dir: string): CgroupSample {
    const r = (f: string) => text(join(dir, f));
    const cpuStat = r("cpu.stat");
    if (cpuStat === undefined) return {}; // the cgroup is gone
    const [current, max, stat, swap, swapMax, pids, cpuP, memP, ioP] = [
      r("memory.current"), r("memory.max"), r("memory.stat"), r("memory.swap.current"), r("memory.swap.max"),
      r("pids.current"), r("cpu.pressure"), r("memory.pressure"), r("io.pressure"),
    ];
    const out: CgroupSample = {};
    const usec = parseFlat(cpuStat).get("usage_usec");
    if (usec !== undefined) out.cpuNs = usec * 1000n;
    const mem = num(current);
    const s = parseFlat(stat);
    if (mem !== undefined) {
      out.memoryUsage = mem;
      out.workingSet = minus(mem, s.get("inactive_file") ?? 0n);
      out.rss = s.get("anon") ?? 0n;
      out.pageFaults = s.get("pgfault") ?? 0n;
      out.majorPageFaults = s.get("pgmajfault") ?? 0n;
      const limit = limited(num(max));
      if (limit !== undefined) out.memoryLimit = limit;
    }
    const sw = num(swap);
    if (sw !== undefined) out.swapUsage = sw;
    const swLimit = limited(num(swapMax));
    if (swLimit !== undefined) out.swapLimit = swLimit;
    const p = num(pids);
    if (p !== undefined) out.pids = p;
    const cpuPsi = parsePsi(cpuP);
    if (cpuPsi) out.cpuPsi = cpuPsi;
    const memoryPsi = parsePsi(memP);
    if (memoryPsi) out.memoryPsi = memoryPsi;
    const ioPsi = parsePsi(ioP);
    if (ioPsi) out.ioPsi = ioPsi;
    return out;
  }
}
