// UpdatePodSandboxResources, best effort as the CRI allows: the pod cgroup's CPU and memory limits
// are written where Berth's cgroupfs driver owns them; anything that fails is logged, not returned.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LinuxContainerResources } from "../generated/runtime/v1/api.js";
import type { Hierarchy } from "../oci/cgroups-hierarchies.js";
import { logger } from "../util/log.js";

const log = logger("containers");

/** runc's conversion of cgroup v1 cpu.shares to v2 cpu.weight. */
export function sharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n;
  return 1n + ((shares - 2n) * 9999n) / 262142n;
}

/** The files and values to write for the given limits (zero fields are left alone). */
export function podCgroupWrites(path: string, r: LinuxContainerResources, hierarchies: readonly Hierarchy[], pureV2: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (pureV2) {
    const v2 = hierarchies.find((h) => h.kind === "v2");
    if (!v2) return out;
    const dir = join(v2.mount, path);
    if (r.memoryLimitInBytes > 0n) out.push([join(dir, "memory.max"), String(r.memoryLimitInBytes)]);
    if (r.cpuShares > 0n) out.push([join(dir, "cpu.weight"), String(sharesToWeight(r.cpuShares))]);
    if (r.cpuQuota !== 0n) out.push([join(dir, "cpu.max"), `${r.cpuQuota < 0n ? "max" : r.cpuQuota} ${r.cpuPeriod > 0n ? r.cpuPeriod : 100000n}`]);
    return out;
  }
  const mount = (ctl: string) => hierarchies.find((h) => h.kind === "v1" && h.controllers.includes(ctl))?.mount;
  const mem = mount("memory");
  const cpu = mount("cpu");
  if (mem && r.memoryLimitInBytes > 0n) out.push([join(mem, path, "memory.limit_in_bytes"), String(r.memoryLimitInBytes)]);
  if (cpu) {
    if (r.cpuShares > 0n) out.push([join(cpu, path, "cpu.shares"), String(r.cpuShares)]);
    if (r.cpuPeriod > 0n) out.push([join(cpu, path, "cpu.cfs_period_us"), String(r.cpuPeriod)]);
    if (r.cpuQuota !== 0n) out.push([join(cpu, path, "cpu.cfs_quota_us"), String(r.cpuQuota)]);
  }
  return out;
}

export async function applyPodResources(podId: string, path: string, r: LinuxContainerResources | undefined, hierarchies: readonly Hierarchy[], pureV2: boolean): Promise<void> {
  if (!r) return;
  for (const [file, value] of podCgroupWrites(path, r, hierarchies, pureV2)) {
    try {
      await writeFile(file, value);
    } catch (err) {
      log.warn({ pod: podId, file, value, err: (err as Error).message }, "UpdatePodSandboxResources: a pod cgroup limit was not applied (best effort)");
    }
  }
}
