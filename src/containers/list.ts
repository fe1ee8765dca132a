// ListContainers from memory, with CRI's filters: ID and pod sandbox ID (full or unique prefix),
// state, and a label selector where every given label must match exactly.
import type { Container as CriContainer, ContainerFilter } from "../generated/runtime/v1/api.js";
import { filterMatch } from "../pods/ids.js";
import type { ContainerContext } from "./context.js";
import { isVisible, type Container } from "./record.js";
import { listEntry, stateOf } from "./status.js";

export interface Selection {
  id?: string;
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

/**
 * The visible containers a filter selects, oldest first (shared by List and the stats RPCs). An ID
 * or pod ID prefix is first resolved to one container or pod, as containerd does: a prefix that
 * two pods share selects nothing, never both pods' containers.
 */
export function select(ctx: ContainerContext, f: Selection | undefined): Container[] {
  const id = f?.id ? filterMatch(f.id, () => visibleIds(ctx)) : "";
  const pod = f?.podSandboxId ? filterMatch(f.podSandboxId, () => ctx.deps.pods.all().map((p) => p.rec.id)) : "";
  if (id === undefined || pod === undefined) return [];
  const selector = Object.entries(f?.labelSelector ?? {});
  const out: Container[] = [];
  for (const c of ctx.containers.values()) {
    if (!isVisible(c)) continue;
    if (id && c.rec.id !== id) continue;
    if (pod && c.rec.podId !== pod) continue;
    if (selector.some(([k, v]) => c.config.labels[k] !== v)) continue;
    out.push(c);
  }
  // The index is filled in creation order (recovery loads oldest first), so no sort is needed.
  return out;
}

function* visibleIds(ctx: ContainerContext): Iterable<string> {
  for (const c of ctx.containers.values()) if (isVisible(c)) yield c.rec.id;
}

export function listContainers(ctx: ContainerContext, filter: ContainerFilter | undefined): CriContainer[] {
  const state = filter?.state?.state;
  return select(ctx, filter)
    .filter((c) => state === undefined || stateOf(c) === state)
    // kubelet lists every second or so: entries are built once per change, not per call.
    .map((c) => (c.listed ??= listEntry(c)));
}
