// Image pull series from the pull progress feed: pulls in progress, finished pulls and their
// duration by result, bytes received, and per-layer progress while a pull runs.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ProgressEvent, ProgressFeed } from "../images/progress.js";

const BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

interface PullState {
  started: number;
  /** Per layer index: bytes done and phase at its last event. */
  seen: Map<number, { done: number; phase: string }>;
  layers: Set<string>;
}

/** Subscribes to the feed; returns the unsubscribe. */
export function pullMetrics(registry: Registry, feed: ProgressFeed): () => void {
  const inProgress = new Gauge({ name: "berth_image_pulls_in_progress", help: "Image pulls running now.", registers: [registry] });
  const finished = new Counter({ name: "berth_image_pulls_total", help: "Finished image pulls, by result (success or failure).", labelNames: ["result"] as const, registers: [registry] });
  const duration = new Histogram({ name: "berth_image_pull_duration_seconds", help: "Time from the start of an image pull to its end, by result.", labelNames: ["result"] as const, buckets: BUCKETS, registers: [registry] });
  const bytes = new Counter({ name: "berth_image_pull_bytes_total", help: "Layer bytes image pulls downloaded, counted per pull from the start of each layer download (a download two concurrent pulls share counts for each).", registers: [registry] });
  const layerDone = new Gauge({ name: "berth_image_pull_layer_downloaded_bytes", help: "Bytes of a layer downloaded so far, while its pull runs.", labelNames: ["image", "layer"] as const, registers: [registry] });
  const layerSize = new Gauge({ name: "berth_image_pull_layer_size_bytes", help: "Size of a layer being pulled, while its pull runs.", labelNames: ["image", "layer"] as const, registers: [registry] });
  for (const result of ["success", "failure"]) {
    finished.inc({ result }, 0);
    duration.zero({ result });
  }

  const pulls = new Map<number, PullState>();
  const onEvent = (e: ProgressEvent): void => {
    if (e.kind === "pull") {
      if (e.phase === "resolving") {
        pulls.set(e.pull, { started: e.t, seen: new Map(), layers: new Set() });
        inProgress.inc();
      } else if (e.phase === "done" || e.phase === "failed") {
        const p = pulls.get(e.pull);
        if (!p) return;
        pulls.delete(e.pull);
        inProgress.dec();
        const result = e.phase === "done" ? "success" : "failure";
        finished.inc({ result });
        duration.observe({ result }, Math.max(0, e.t - p.started) / 1000);
        for (const layer of p.layers) {
          layerDone.remove({ image: e.ref, layer });
          layerSize.remove({ image: e.ref, layer });
        }
      }
      return;
    }
    const p = pulls.get(e.pull);
    if (!p) return;
    const last = p.seen.get(e.index);
    // Bytes count from the start of a layer's download (its first event may already carry some);
    // a layer found complete in the store counts nothing, and a retry's resume counts no byte twice.
    const active = last?.phase === "downloading" || last?.phase === "resuming" || (last?.phase === "waiting" && e.phase === "downloading");
    if (active && e.done > last.done) bytes.inc(e.done - last.done);
    p.seen.set(e.index, { done: e.done, phase: e.phase });
    p.layers.add(e.layer);
    layerDone.set({ image: e.ref, layer: e.layer }, e.done);
    layerSize.set({ image: e.ref, layer: e.layer }, e.total);
  };
  feed.on("event", onEvent);
  return () => feed.off("event", onEvent);
}
