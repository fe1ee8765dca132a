// Where any module adds its own Prometheus series (e.g. the event bus's subscriber and drop
// counters) without loading prom-client when metrics are off: installers run once metrics start.
import type * as PromClient from "prom-client";

/** Creates series in `registry` (pass `registers: [registry]`); read live values in `collect()`. */
export type MetricsInstaller = (prom: typeof PromClient, registry: PromClient.Registry) => void;

const installers: MetricsInstaller[] = [];
let live: { prom: typeof PromClient; registry: PromClient.Registry } | undefined;

/** Registers series now if metrics are on, else when (and only if) they start. */
export function registerMetrics(install: MetricsInstaller): void {
  installers.push(install);
  if (live) install(live.prom, live.registry);
}

/** Called by the metrics setup once its registry exists. */
export function installRegisteredMetrics(prom: typeof PromClient, registry: PromClient.Registry): void {
  live = { prom, registry };
  for (const install of installers) install(prom, registry);
}
