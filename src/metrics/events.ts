// Series of the container event bus (GetContainerEvents): subscribers now, events published,
// and the subscribers cut off and events they lost for falling a whole queue behind.
import { Counter, Gauge, type Registry } from "prom-client";

/** The bus's plain getters (src/util/fanout.ts). */
export interface EventBusCounts {
  readonly subscribers: number;
  readonly published: number;
  readonly dropped: number;
  readonly cutOff: number;
}

export function eventMetrics(registry: Registry, bus: EventBusCounts): void {
  new Gauge({
    name: "berth_event_subscribers",
    help: "GetContainerEvents subscribers now.",
    registers: [registry],
    collect() {
      this.set(bus.subscribers);
    },
  });
  // Counters whose totals the bus keeps: each scrape copies the total.
  const total = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  total("berth_events_published_total", "Container events published on the bus.", () => bus.published);
  total("berth_events_dropped_total", "Container events subscribers lost because they fell a whole queue behind and were cut off.", () => bus.dropped);
  total("berth_event_subscribers_cut_off_total", "GetContainerEvents subscribers cut off for falling a whole queue behind.", () => bus.cutOff);
}
