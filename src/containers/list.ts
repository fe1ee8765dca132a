// ListContainers from memory, with CRI's filters: ID (full or prefix), pod sandbox ID (full or
// prefix), state, and a label selector where every given label must match exactly.
import type { Container as CriContainer, ContainerFilter } from "../generated/runtime/v1/api.js";
import type { ContainerContext } from "./context.js";
import { isVisible, type Container } from "./record.js";
import { listEntry, stateOf } from "./status.js";

export interface Selection {
  id?: string;
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

/** The visible containers a filter selects, oldest first (shared by List and the stats RPCs). */
export function select(ctx: ContainerContext, f: Selection | undefined): Container[] {
  const id = f?.id?.toLowerCase() ?? "";
  const pod = f?.podSandboxId?.toLowerCase() ?? "";
  const selector = Object.entries(f?.labelSelector ?? {});
  const out: Container[] = [];
  for (const c of ctx.containers.values()) {
    if (!isVisible(c)) continue;
    if (id && !c.rec.id.startsWith(id)) continue;
    if (pod && !c.rec.podId.startsWith(pod)) continue;
    if (selector.some(([k, v]) => c.config.labels[k] !== v)) continue;
    out.push(c);
  }
  // The index is filled in creation order (recovery loads oldest first), so no sort is needed.
  return out;
}

export function listContainers(ctx: ContainerContext, filter: ContainerFilter | undefined): CriContainer[] {
  const state = filter?.state?.state;
  return select(ctx, filter)
    .filter((c) => state === undefined || stateOf(c) === state)
    // kubelet lists every second or so: entries are built once per change, not per call.
    .map((c) => (c.listed ??= listEntry(c)));
}
