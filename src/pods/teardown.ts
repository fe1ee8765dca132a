// Taking a sandbox down in the reverse order it was built: stopping (containers, infra,
// network) and releasing everything else. Every step runs even if one fails; the first error is thrown.
import { logger } from "../util/log.js";
import type { PodContext } from "./context.js";
import type { Pod } from "./record.js";
import { releasePodLogDir } from "./log-dirs.js";
import { unmountAll } from "../oci/mount.js";
import { releaseCgroup, releaseDir, releaseFiles, releaseNetwork, releaseNetworkAfterUnpin, releasePins, releaseShm, stopInfraOf } from "./steps.js";

const log = logger("pods");

async function all(what: string, pod: Pod, steps: ReadonlyArray<readonly [string, () => Promise<void>]>): Promise<void> {
  let first: unknown;
  const ms: Record<string, number> = {};
  for (const [name, fn] of steps) {
    const t0 = performance.now();
    try {
      await fn();
    } catch (err) {
      log.warn({ pod: pod.rec.id, step: name, err: (err as Error).message }, `${what}: step failed`);
      first ??= err;
    }
    ms[name] = Math.round((performance.now() - t0) * 10) / 10;
  }
  log.debug({ pod: pod.rec.id, ms }, what);
  if (first !== undefined) throw first;
}

/** Waits for all; rethrows the first failure (Promise.all would return while others still run). */
export async function settled(work: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const r = await Promise.allSettled(work);
  const failed = r.find((x): x is PromiseRejectedResult => x.status === "rejected");
  if (failed) throw failed.reason;
}

/** Stop: containers, then the infra process, CNI DEL and the shm mount. Namespaces and files stay until Remove. */
export function stopSteps(ctx: PodContext, pod: Pod): Promise<void> {
  let containersStopped = false;
  // The fast DEL (netns dropped first) only once nothing can still run in the namespace;
  // otherwise the plain DEL removes the veth while the namespace lives on.
  const infraThenNetwork = async () => {
    let infraError: unknown;
    const infraStopped = await stopInfraOf(pod).then(() => true, (err: unknown) => ((infraError = err), false));
    await (containersStopped && infraStopped ? releaseNetworkAfterUnpin(ctx, pod) : releaseNetwork(ctx, pod));
    if (!infraStopped) throw infraError;
  };
  return all("pod sandbox stopped", pod, [
    ["listeners", () => stopListeners(ctx, pod)],
    ["containers", async () => {
      await ctx.hooks.stopContainersOf(pod.rec.id);
      containersStopped = true;
    }],
    ["infra+network+shm", () => settled([infraThenNetwork(), releaseShm(pod)])],
  ]);
}

/** What other services hold in the pod (streaming sessions) ends before the pod's parts go. */
function stopListeners(ctx: PodContext, pod: Pod): Promise<void> {
  return settled(ctx.stopListeners.map((fn) => fn(pod.rec.id)));
}

/** Everything a pod owns, for Remove and for recovery of a half-made pod. */
export function releaseAll(ctx: PodContext, pod: Pod, signal?: AbortSignal): Promise<void> {
  return all("pod sandbox released", pod, [
    ["listeners", () => stopListeners(ctx, pod)],
    ["containers", () => ctx.hooks.removeContainersOf(pod.rec.id, signal)],
    ["infra+network", () => settled([stopInfraOf(pod), releaseNetwork(ctx, pod)])],
    // Independent of each other. One umount for the shm and every pin, then the files they were mounted on.
    ["files+mounts+cgroup", () =>
      settled([
        releaseFiles(pod),
        (async () => {
          await unmountAll(mountsOf(pod));
          await settled([releaseShm(pod), releasePins(pod)]);
        })(),
        releaseCgroup(ctx, pod),
      ])],
    ["logs", () => releasePodLogDir(ctx, pod)],
    ["dir", () => releaseDir(pod)],
  ]);
}

function mountsOf(pod: Pod): string[] {
  const out = Object.values(pod.rec.pins).filter((p): p is string => !!p);
  if (pod.rec.shm.owned) out.push(pod.rec.shm.path);
  return out;
}
