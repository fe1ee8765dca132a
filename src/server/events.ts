// GetContainerEvents: one subscription to the event bus per call, its events written in order;
// the bus ends it cleanly at shutdown or with RESOURCE_EXHAUSTED when the client falls behind.
import type { ContainerEventResponse, RuntimeServiceServer } from "../generated/runtime/v1/api.js";
import { serverStream } from "./stream.js";

export interface EventSource {
  subscribe(): AsyncIterable<ContainerEventResponse> & { close(): void };
}

export function eventHandlers(events: EventSource): Pick<RuntimeServiceServer, "getContainerEvents"> {
  return {
    getContainerEvents: serverStream("GetContainerEvents", async (_req, out, callContext) => {
      const sub = events.subscribe();
      callContext.signal.addEventListener("abort", () => sub.close(), { once: true });
      // Headers go out once subscribed: a client that waits for them misses no later event.
      out.ready();
      for await (const ev of sub) await out.write(ev);
    }),
  };
}
