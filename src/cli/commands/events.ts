// `berth events`: watches GetContainerEvents live, one line per event (or one JSON object per
// line with -o json), until interrupted or the daemon ends the stream.
import { ContainerEventResponse, ContainerEventType, containerEventTypeToJSON, ContainerState } from "../../generated/runtime/v1/api.js";
import type { CriClient } from "../client.js";
import { parseFormat, UsageError } from "../output.js";

export interface EventsArgs {
  values: { output?: string | undefined; "no-trunc"?: boolean | undefined };
  positionals: string[];
}

const TYPE: Record<number, string> = {
  [ContainerEventType.CONTAINER_CREATED_EVENT]: "CREATED",
  [ContainerEventType.CONTAINER_STARTED_EVENT]: "STARTED",
  [ContainerEventType.CONTAINER_STOPPED_EVENT]: "STOPPED",
  [ContainerEventType.CONTAINER_DELETED_EVENT]: "DELETED",
};

/** One human line: time, type, what (container or sandbox), ID, pod, name, and the exit for STOPPED. */
export function eventLine(e: ContainerEventResponse, trunc = true): string {
  const short = (id: string) => (trunc ? id.slice(0, 13) : id);
  const at = new Date(Number(e.createdAt / 1_000_000n)).toISOString();
  const own = e.containersStatuses.find((s) => s.id === e.containerId);
  const sandbox = !own && (e.podSandboxStatus?.id === e.containerId || e.podSandboxStatus === undefined);
  const pod = e.podSandboxStatus;
  const name = sandbox ? (pod?.metadata ? `${pod.metadata.namespace}/${pod.metadata.name}` : "") : (own?.metadata?.name ?? "");
  const parts = [at, (TYPE[e.containerEventType] ?? String(e.containerEventType)).padEnd(7), sandbox ? "sandbox  " : "container", short(e.containerId)];
  if (!sandbox && pod) parts.push(`pod=${short(pod.id)}`);
  if (name) parts.push(`name=${name}`);
  if (own && own.state === ContainerState.CONTAINER_EXITED && e.containerEventType === ContainerEventType.CONTAINER_STOPPED_EVENT) {
    parts.push(`exit=${own.exitCode}`, `reason=${own.reason}`);
  }
  return parts.join("  ");
}

/** `berth events [-o table|json] [--no-trunc]`: prints events as they come; Ctrl-C ends it. */
export async function eventsCommand(c: CriClient, a: EventsArgs): Promise<void> {
  if (a.positionals.length > 0) throw new UsageError("berth events: takes no arguments");
  const format = parseFormat(a.values.output, ["table", "json"]);
  const stream = c.runtime.getContainerEvents({});
  // The daemon sends headers once subscribed: from then on no event is missed.
  stream.once("metadata", () => process.stderr.write("watching events (Ctrl-C to stop)\n"));
  const stop = () => stream.cancel();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    for await (const msg of stream) {
      const e = msg as ContainerEventResponse;
      // proto3 JSON leaves out enum zero (CREATED): the type is always spelled out here.
      const json = () => JSON.stringify({ ...(ContainerEventResponse.toJSON(e) as object), containerEventType: containerEventTypeToJSON(e.containerEventType) });
      process.stdout.write(format === "json" ? `${json()}\n` : `${eventLine(e, !a.values["no-trunc"])}\n`);
    }
  } catch (err) {
    // Ctrl-C cancels the call: that is the normal end, not an error.
    if ((err as { code?: number }).code !== 1) throw err;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
