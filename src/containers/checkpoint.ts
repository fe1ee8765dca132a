// CheckpointContainer: checks the request (absolute .tar location in an existing dir, a running
// container), then CRIU through runc (probed once) and the CRI-O/containerd archive layout.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { failedPrecondition, invalid } from "../errors.js";
import type { CheckpointContainerRequest } from "../generated/runtime/v1/api.js";
import { ARCHIVE_LAYOUT, writeCheckpointArchive } from "../oci/checkpoint-archive.js";
import type { CriuGate } from "../oci/criu.js";
import type { ContainerContext } from "./context.js";

/** Used when the request's timeout is 0 (kubelet's checkpoint API passes one; crictl may not). */
const DEFAULT_TIMEOUT_S = 300n;
const MAX_TIMEOUT_S = 24n * 3600n;

/** The location's checks that need no container: absolute, ends in .tar, its directory exists. */
export async function checkLocation(location: string): Promise<void> {
  if (!location) throw invalid("CheckpointContainer: location is empty; give the absolute path of the .tar archive to write");
  if (!isAbsolute(location)) throw invalid(`CheckpointContainer: location "${location}" is not an absolute path`);
  if (!location.endsWith(".tar")) throw invalid(`CheckpointContainer: location "${location}" must name a .tar archive (e.g. /var/lib/checkpoints/web.tar)`);
  const parent = await stat(dirname(location)).catch(() => undefined);
  if (!parent?.isDirectory()) throw invalid(`CheckpointContainer: the directory of location "${location}" does not exist; create it first`);
  if ((await stat(location).catch(() => undefined))?.isDirectory()) throw invalid(`CheckpointContainer: location "${location}" is a directory`);
}

export function timeoutMs(timeout: bigint): number {
  if (timeout < 0n) throw invalid(`CheckpointContainer: timeout ${timeout} is negative; give seconds, or 0 for the default (${DEFAULT_TIMEOUT_S} s)`);
  if (timeout > MAX_TIMEOUT_S) throw invalid(`CheckpointContainer: timeout ${timeout} s is over a day`);
  return Number(timeout === 0n ? DEFAULT_TIMEOUT_S : timeout) * 1000;
}

export async function checkpointContainer(ctx: ContainerContext, criu: CriuGate, req: CheckpointContainerRequest): Promise<void> {
  if (!req.containerId) throw invalid("CheckpointContainer: container_id is empty; give a container ID or a unique prefix");
  const ms = timeoutMs(req.timeout);
  await checkLocation(req.location);
  const found = ctx.get(req.containerId);
  if (found.rec.phase !== "running") throw failedPrecondition(`CheckpointContainer: container "${found.rec.id}" is ${found.rec.phase}, not running; only a running container can be checkpointed`);
  await criu.require();
  await ctx.locks.run(found.rec.id, async () => {
    const c = ctx.containers.get(found.rec.id);
    if (c?.rec.phase !== "running") throw failedPrecondition(`CheckpointContainer: container "${found.rec.id}" stopped while the checkpoint waited`);
    const work = await mkdtemp(join(dirname(req.location), ".berth-checkpoint-"));
    try {
      await ctx.deps.oci.checkpoint(c.rec.id, join(work, ARCHIVE_LAYOUT.images), work, ms);
      const spec: unknown = JSON.parse(await readFile(join(c.rec.paths.bundle, "config.json"), "utf8"));
      const config = {
        id: c.rec.id,
        name: c.config.metadata?.name ?? "",
        podId: c.rec.podId,
        rootfsImage: c.rec.image.digestedRef ?? c.rec.image.name,
        rootfsImageRef: c.rec.image.id,
        rootfsImageName: c.rec.image.name,
        runtime: "runc",
        createdTime: new Date(Number(BigInt(c.rec.createdAt) / 1_000_000n)).toISOString(),
        checkpointedTime: new Date().toISOString(),
      };
      await writeCheckpointArchive(work, join(c.rec.paths.dir, "upper"), { config, spec }, req.location);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}
