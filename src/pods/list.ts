// ListPodSandbox from memory, with CRI's filters: ID (full or unique prefix), state, and a label
// selector where every given label must match exactly.
import type { PodSandbox, PodSandboxFilter } from "../generated/runtime/v1/api.js";
import type { PodContext } from "./context.js";
import { filterMatch } from "./ids.js";
import { isVisible } from "./record.js";
import { stateOf } from "./status.js";

export function listPods(ctx: PodContext, filter: PodSandboxFilter | undefined): PodSandbox[] {
  const out: PodSandbox[] = [];
  // A prefix is resolved to one pod first, as containerd does: an ambiguous one lists nothing.
  const id = filter?.id ? filterMatch(filter.id, () => [...ctx.pods.values()].filter(isVisible).map((p) => p.rec.id)) : "";
  if (id === undefined) return out;
  const selector = Object.entries(filter?.labelSelector ?? {});
  for (const pod of ctx.pods.values()) {
    if (!isVisible(pod)) continue;
    if (id && pod.rec.id !== id) continue;
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
