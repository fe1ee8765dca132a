// Pod sandbox events for GetContainerEvents, as containerd sends them: container events whose
// container_id is the sandbox ID (CREATED and STARTED when it is ready, STOPPED, DELETED).
import { ContainerEventType } from "../generated/runtime/v1/api.js";
import type { PodContext, PodWatcher } from "./context.js";
import type { Pod, PodPhase } from "./record.js";
import { sandboxStatus } from "./status.js";

const announced = new WeakMap<Pod, PodPhase | "deleted">();

/** A record loaded from the store: its current phase was announced by an earlier daemon. */
export function markLoaded(pod: Pod): void {
  announced.set(pod, pod.rec.phase);
}

function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

/** Publishes the events for a phase change (or the removal) of a pod, once. */
export function announcePod(ctx: PodContext, pod: Pod, removed = false): void {
  const before = announced.get(pod);
  const now = removed ? "deleted" : pod.rec.phase;
  if (before === now) return;
  announced.set(pod, now);
  const types: ContainerEventType[] = [];
  if (removed) {
    if (before === "ready" || before === "notready") types.push(ContainerEventType.CONTAINER_DELETED_EVENT);
  } else if (now === "ready" && before !== "notready") {
    types.push(ContainerEventType.CONTAINER_CREATED_EVENT, ContainerEventType.CONTAINER_STARTED_EVENT);
  } else if (now === "notready" && before === "ready") {
    types.push(ContainerEventType.CONTAINER_STOPPED_EVENT);
  }
  const sink = ctx.deps.events;
  if (types.length === 0 || !sink?.wanted()) return;
  for (const type of types) {
    sink.publish({
      containerId: pod.rec.id,
      containerEventType: type,
      createdAt: nowNs(),
      podSandboxStatus: removed ? undefined : sandboxStatus(pod),
      containersStatuses: ctx.hooks.statusesOf(pod.rec.id),
    });
  }
}

/** The context's watcher that turns its saves and drops into sandbox events. */
export function podEventWatcher(ctx: PodContext): PodWatcher {
  return { changed: (pod, removed) => announcePod(ctx, pod, removed) };
}
