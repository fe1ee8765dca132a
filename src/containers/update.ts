// UpdateContainerResources: the new limits merged over the current ones (a zero field keeps its
// value, as containerd does), applied with runc update; on failure the old limits are put back.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LinuxContainerResources, type UpdateContainerResourcesRequest } from "../generated/runtime/v1/api.js";
import { writeFileAtomic } from "../util/durable.js";
import { logger } from "../util/log.js";
import type { ContainerContext } from "./context.js";
import { buildResources } from "./spec/resources.js";
import type { OciSpec } from "./spec/index.js";
import { failedPrecondition } from "../errors.js";

const log = logger("containers");

export function mergeResources(cur: LinuxContainerResources | undefined, next: LinuxContainerResources): LinuxContainerResources {
  const base = LinuxContainerResources.fromPartial(cur ?? {});
  return {
    cpuPeriod: next.cpuPeriod !== 0n ? next.cpuPeriod : base.cpuPeriod,
    cpuQuota: next.cpuQuota !== 0n ? next.cpuQuota : base.cpuQuota,
    cpuShares: next.cpuShares !== 0n ? next.cpuShares : base.cpuShares,
    memoryLimitInBytes: next.memoryLimitInBytes !== 0n ? next.memoryLimitInBytes : base.memoryLimitInBytes,
    // Fixed at start: the kernel applies it to the process, not the cgroup.
    oomScoreAdj: base.oomScoreAdj,
    cpusetCpus: next.cpusetCpus !== "" ? next.cpusetCpus : base.cpusetCpus,
    cpusetMems: next.cpusetMems !== "" ? next.cpusetMems : base.cpusetMems,
    hugepageLimits: next.hugepageLimits.length > 0 ? next.hugepageLimits : base.hugepageLimits,
    unified: { ...base.unified, ...next.unified },
    memorySwapLimitInBytes: next.memorySwapLimitInBytes !== 0n ? next.memorySwapLimitInBytes : base.memorySwapLimitInBytes,
  };
}

export async function updateResources(ctx: ContainerContext, req: UpdateContainerResourcesRequest): Promise<void> {
  const found = ctx.get(req.containerId);
  if (!req.linux) return; // Windows resources only: nothing for a Linux node to do
  const linux = req.linux;
  await ctx.locks.run(found.rec.id, async () => {
    const c = ctx.containers.get(found.rec.id);
    if (!c) throw failedPrecondition(`container "${found.rec.id}" was removed while UpdateContainerResources waited`);
    const opts = { cgroupV2: ctx.deps.facts.cgroupMode === "v2", swapController: ctx.deps.facts.swapController };
    const merged = mergeResources(c.resources, linux);
    const next = buildResources(merged, opts);
    const live = c.rec.phase === "created" || c.rec.phase === "running";
    if (live) {
      const oci = ctx.deps.oci;
      try {
        await oci.update(c.rec.id, next);
      } catch (err) {
        // runc writes cgroup files one by one: put every one back so the change is all or nothing.
        await oci.update(c.rec.id, buildResources(c.resources, opts)).catch((e: unknown) =>
          log.error({ id: c.rec.id, err: (e as Error).message }, "restoring resources after a failed update failed"),
        );
        throw err;
      }
    }
    c.resources = merged;
    c.rec.resources = LinuxContainerResources.toJSON(merged);
    ctx.save(c);
    await rewriteSpec(c.rec.paths.bundle, next).catch((e: unknown) => log.debug({ id: c.rec.id, err: (e as Error).message }, "config.json not updated"));
  });
}

/** Keeps config.json (shown by verbose status) in step with what runc applied. */
async function rewriteSpec(bundle: string, resources: object): Promise<void> {
  const path = join(bundle, "config.json");
  const spec = JSON.parse(await readFile(path, "utf8")) as OciSpec;
  if (!spec.linux) return;
  spec.linux.resources = { devices: spec.linux.resources?.devices ?? [], ...resources };
  await writeFileAtomic(path, JSON.stringify(spec), { mode: 0o600, fsync: true }); // never half a spec
}
