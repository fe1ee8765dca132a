// cgroup limits from LinuxContainerResources (CPU, cpuset, memory, swap, hugepages, unified,
// pids) and the oom_score_adj, with the int64 fields range-checked into JSON numbers.
import { invalid } from "../../errors.js";
import type { LinuxContainerResources } from "../../generated/runtime/v1/api.js";
import { toInt } from "./numbers.js";
import type { OciResources } from "./oci-types.js";

export interface ResourceOptions {
  cgroupV2: boolean;
  swapController: boolean;
  pidsLimit?: number;
}

const F = "linux.resources";
const CPUSET = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
const PAGE_SIZE = /^\d+(KB|MB|GB|TB|PB)$/;
const UNIFIED_KEY = /^[A-Za-z0-9_]+\.[A-Za-z0-9_.]+$/;

/**
 * Zero means "not set" for every int64 field, as in containerd. With a memory limit and no swap
 * limit, swap is pinned to the memory limit (no swapping), again as containerd does, when the
 * host has the memory+swap controller; without that controller swap is left out.
 */
export function buildResources(r: LinuxContainerResources | undefined, opts: ResourceOptions): Omit<OciResources, "devices"> {
  const out: Omit<OciResources, "devices"> = {};
  if (r) {
    const period = toInt(r.cpuPeriod, `${F}.cpu_period`, 0);
    const quota = toInt(r.cpuQuota, `${F}.cpu_quota`, -1);
    const shares = toInt(r.cpuShares, `${F}.cpu_shares`, 0);
    const cpu: NonNullable<OciResources["cpu"]> = {};
    if (period !== 0) cpu.period = period;
    if (quota !== 0) cpu.quota = quota;
    if (shares !== 0) cpu.shares = shares;
    if (r.cpusetCpus !== "") {
      if (!CPUSET.test(r.cpusetCpus)) throw invalid(`${F}.cpuset_cpus ${JSON.stringify(r.cpusetCpus)} is not a CPU list like "0-3,6"`);
      cpu.cpus = r.cpusetCpus;
    }
    if (r.cpusetMems !== "") {
      if (!CPUSET.test(r.cpusetMems)) throw invalid(`${F}.cpuset_mems ${JSON.stringify(r.cpusetMems)} is not a node list like "0-1"`);
      cpu.mems = r.cpusetMems;
    }
    if (Object.keys(cpu).length > 0) out.cpu = cpu;

    const limit = toInt(r.memoryLimitInBytes, `${F}.memory_limit_in_bytes`, 0);
    const swap = toInt(r.memorySwapLimitInBytes, `${F}.memory_swap_limit_in_bytes`, -1);
    const memory: NonNullable<OciResources["memory"]> = {};
    if (limit !== 0) memory.limit = limit;
    if (opts.swapController) {
      if (swap !== 0) {
        // Both are memory+swap totals (cgroup v1 meaning); -1 is unlimited swap.
        if (limit !== 0 && swap !== -1 && swap < limit) {
          throw invalid(`${F}.memory_swap_limit_in_bytes ${swap} is below memory_limit_in_bytes ${limit}; it counts memory plus swap`);
        }
        memory.swap = swap;
      } else if (limit !== 0) {
        memory.swap = limit;
      }
    }
    if (Object.keys(memory).length > 0) out.memory = memory;

    if (r.hugepageLimits.length > 0) {
      out.hugepageLimits = r.hugepageLimits.map((h, i) => {
        if (!PAGE_SIZE.test(h.pageSize)) throw invalid(`${F}.hugepage_limits[${i}].page_size ${JSON.stringify(h.pageSize)} is not like "2MB" or "1GB"`);
        return { pageSize: h.pageSize, limit: toInt(h.limit, `${F}.hugepage_limits[${i}].limit`, 0) };
      });
    }

    const unified = Object.entries(r.unified);
    if (unified.length > 0) {
      if (!opts.cgroupV2) throw invalid(`${F}.unified is set but this node does not run pure cgroup v2; unified settings need cgroup v2`);
      for (const [k, v] of unified) {
        if (!UNIFIED_KEY.test(k)) throw invalid(`${F}.unified key ${JSON.stringify(k)} is not a cgroup file name like "memory.high"`);
        if (v.includes("\0")) throw invalid(`${F}.unified[${k}] must not contain NUL`);
      }
      out.unified = Object.fromEntries(unified.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  }
  if (opts.pidsLimit !== undefined && opts.pidsLimit !== 0) out.pids = { limit: toInt(opts.pidsLimit, "pids limit", -1) };
  return out;
}

/**
 * kubelet's oom_score_adj, raised to the daemon's own when lower: a container must never be
 * safer from the OOM killer than the runtime that keeps it alive (containerd's restrict rule).
 */
export function oomScoreAdj(r: LinuxContainerResources | undefined, floor: number): number {
  const want = toInt(r?.oomScoreAdj ?? 0n, `${F}.oom_score_adj`, -1000, 1000);
  const min = Math.max(-1000, Math.min(1000, floor));
  return Math.max(want, min);
}
