// Turns metrics on: one registry with Node's process/runtime defaults and every berth_ series,
// the CRI call observer, and the HTTP endpoint. Imported (dynamically) only when metrics.address is set.
import * as prom from "prom-client";
import type { ContainerService } from "../containers/service.js";
import type { ProgressFeed } from "../images/progress.js";
import type { PodService } from "../pods/service.js";
import type { CallObserver } from "../util/call-observer.js";
import { criCallMetrics } from "./cri.js";
import { eventMetrics, type EventBusCounts } from "./events.js";
import { installRegisteredMetrics } from "./hooks.js";
import { pullMetrics } from "./images.js";
import { serveMetrics } from "./server.js";
import { stateMetrics } from "./state.js";
import { openSessions } from "./streaming.js";

export interface MetricsSources {
  pods: PodService;
  containers: ContainerService;
  pulls: ProgressFeed;
  events: EventBusCounts;
}

export interface Metrics {
  address: string;
  observer: CallObserver;
  close(): Promise<void>;
}

export async function startMetrics(address: string, src: MetricsSources): Promise<Metrics> {
  const registry = new prom.Registry();
  // process_* (RSS, CPU, fds) and nodejs_* (heap, event-loop lag, GC): no berth_ copies needed.
  prom.collectDefaultMetrics({ register: registry });
  const observer = criCallMetrics(registry);
  const unsubscribe = pullMetrics(registry, src.pulls);
  stateMetrics(registry, src.pods, src.containers);
  eventMetrics(registry, src.events);
  // Set by the streaming server (exec, attach, port-forward) through src/metrics/streaming.ts.
  new prom.Gauge({
    name: "berth_streaming_sessions",
    help: "Open streaming sessions, by kind (exec, attach, port_forward).",
    labelNames: ["kind"] as const,
    registers: [registry],
    collect() {
      for (const [kind, n] of Object.entries(openSessions())) this.set({ kind }, n);
    },
  });
  installRegisteredMetrics(prom, registry);
  const server = await serveMetrics(address, registry).catch((err: unknown) => {
    unsubscribe();
    throw err;
  });
  return {
    address: server.address,
    observer,
    async close() {
      unsubscribe();
      await server.close();
    },
  };
}
