// ListPodSandbox from memory, with CRI's filters: ID (full or prefix), state, and a label
// selector where every given label must match exactly.
import type { PodSandbox, PodSandboxFilter } from "../generated/runtime/v1/api.js";
import type { PodContext } from "./context.js";
import { isVisible } from "./record.js";
import { stateOf } from "./status.js";

export function listPods(ctx: PodContext, filter: PodSandboxFilter | undefined): PodSandbox[] {
  const out: PodSandbox[] = [];
  const idPrefix = filter?.id.toLowerCase() ?? "";
  const selector = Object.entries(filter?.labelSelector ?? {});
  for (const pod of ctx.pods.values()) {
    if (!isVisible(pod)) continue;
    if (idPrefix && !pod.rec.id.startsWith(idPrefix)) continue;
    const state = stateOf(pod);
    if (filter?.state && filter.state.state !== state) continue;
    if (selector.some(([k, v]) => pod.config.labels[k] !== v)) continue;
    out.push({
      id: pod.rec.id,
      metadata: pod.config.metadata,
      state,
      createdAt: BigInt(pod.rec.createdAt),
      labels: pod.config.labels,
      annotations: pod.config.annotations,
      runtimeHandler: pod.rec.runtimeHandler,
    });
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}
