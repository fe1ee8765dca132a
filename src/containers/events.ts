// Container lifecycle events for GetContainerEvents (kubelet's Evented PLEG): every visible phase
// change the index saves becomes one event carrying the pod's status and its containers' statuses.
import { ContainerEventType, type ContainerEventResponse } from "../generated/runtime/v1/api.js";
import { BerthError, Code } from "../errors.js";
import { Fanout } from "../util/fanout.js";
import type { ContainerContext, ContainerWatcher } from "./context.js";
import { isVisible, nowNs, type Container, type ContainerPhase } from "./record.js";
import { containerStatus } from "./status.js";

const TYPE: Partial<Record<ContainerPhase, ContainerEventType>> = {
  created: ContainerEventType.CONTAINER_CREATED_EVENT,
  running: ContainerEventType.CONTAINER_STARTED_EVENT,
  exited: ContainerEventType.CONTAINER_STOPPED_EVENT,
};

/** The phase last announced for each container object ("loaded" for one recovery brought back). */
const announced = new WeakMap<Container, ContainerPhase | "loaded" | "deleted">();

/** A record loaded from the store: its current phase was announced by an earlier daemon. */
export function markLoaded(c: Container): void {
  announced.set(c, c.rec.phase);
}

/** Publishes the event for a phase change (or the removal) of a container, once. */
export function announce(ctx: ContainerContext, c: Container, removed = false): void {
  const sink = ctx.deps.events;
  const before = announced.get(c);
  const now = removed ? "deleted" : c.rec.phase;
  if (before === now) return;
  announced.set(c, now);
  const types: ContainerEventType[] = [];
  if (removed) {
    // Never visible (a failed create, a half-made leftover): nobody heard of it.
    if (before === undefined || before === "creating") return;
    // Removed before its exit was recorded (runc delete --force kills it; the late exit report
    // is ignored): STOPPED is sent first, so every subscriber sees the same sequence.
    if (before === "created" || before === "running") types.push(ContainerEventType.CONTAINER_STOPPED_EVENT);
    types.push(ContainerEventType.CONTAINER_DELETED_EVENT);
  } else {
    // A process that exits as it starts can be recorded exited before StartContainer saves it
    // running: it did start, so subscribers still get STARTED before STOPPED.
    if (now === "exited" && before === "created" && c.rec.startedAt !== "0" && !c.rec.startError) types.push(ContainerEventType.CONTAINER_STARTED_EVENT);
    const type = TYPE[c.rec.phase];
    if (type !== undefined) types.push(type);
  }
  if (types.length === 0 || !sink?.wanted()) return;
  for (const type of types) sink.publish(containerEvent(ctx, c.rec.id, c.rec.podId, type));
}

export function containerEvent(ctx: ContainerContext, id: string, podId: string, type: ContainerEventType): ContainerEventResponse {
  return {
    containerId: id,
    containerEventType: type,
    createdAt: nowNs(),
    podSandboxStatus: ctx.deps.pods.sandboxStatus(podId),
    containersStatuses: ctx.ofPod(podId).filter(isVisible).map(containerStatus),
  };
}

/** Events one subscriber may have queued before it is cut off (containerd's channel holds 1000). */
export const EVENT_QUEUE = 1024;
/** Exits recovery found are replayed to subscribers that connect this soon after start. */
export const REPLAY_WINDOW_MS = 60_000;

/** The daemon's one event bus: pods and containers publish, GetContainerEvents subscribes. */
export function newEventBus(capacity = EVENT_QUEUE): Fanout<ContainerEventResponse> {
  return new Fanout<ContainerEventResponse>({
    name: "container-events",
    capacity,
    replayWindowMs: REPLAY_WINDOW_MS,
    overflowError: (lost) =>
      new BerthError(Code.RESOURCE_EXHAUSTED, `GetContainerEvents: this subscriber fell ${capacity} events behind and was cut off (${lost} events not sent); re-list (ListPodSandbox, ListContainers) and subscribe again`),
  });
}

/** The context's watcher that turns its saves, drops and loads into events. */
export function eventWatcher(ctx: ContainerContext): ContainerWatcher {
  return { changed: (c, removed) => announce(ctx, c, removed), loaded: markLoaded };
}
