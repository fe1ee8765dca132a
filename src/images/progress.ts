// The pull progress feed: per-layer bytes done/total and phase changes as an in-memory
// EventEmitter, logged at debug, throttled.
import { EventEmitter } from "node:events";
import { logger } from "../util/log.js";

const log = logger("pull");
const EMIT_EVERY_MS = 100;
const LOG_EVERY_MS = 1000;

export type PullPhase = "resolving" | "resolved" | "done" | "failed";
export type LayerPhase = "waiting" | "downloading" | "resuming" | "downloaded" | "applying" | "exists" | "done" | "failed";

export type ProgressEvent =
  | { kind: "pull"; pull: number; ref: string; phase: PullPhase; t: number; layers?: { digest: string; size: number }[]; image?: string; error?: string }
  | { kind: "layer"; pull: number; ref: string; layer: string; index: number; phase: LayerPhase; done: number; total: number; t: number };

export class ProgressFeed extends EventEmitter<{ event: [ProgressEvent] }> {
  private next = 1;

  constructor() {
    super();
    this.setMaxListeners(0);
  }

  /** A reporter for one pull of `ref` (the normalised reference the client asked for). */
  start(ref: string): PullProgress {
    return new PullProgress(this, this.next++, ref);
  }

  publish(e: ProgressEvent): void {
    this.emit("event", e);
  }
}

interface LayerState {
  digest: string;
  index: number;
  total: number;
  done: number;
  phase: LayerPhase;
  lastEmit: number;
  lastLog: number;
  started: number;
}

export class PullProgress {
  private readonly layers = new Map<number, LayerState>();

  constructor(
    private readonly feed: ProgressFeed,
    readonly id: number,
    readonly ref: string,
  ) {}

  pull(phase: PullPhase, extra: { layers?: { digest: string; size: number }[]; image?: string; error?: string } = {}): void {
    this.feed.publish({ kind: "pull", pull: this.id, ref: this.ref, phase, t: Date.now(), ...extra });
    if (phase === "done" || phase === "failed") log.debug({ pull: this.id, ref: this.ref, ...extra }, `pull ${phase}`);
  }

  /** A layer's phase changed (always published). */
  layer(index: number, digest: string, total: number, phase: LayerPhase, done?: number): void {
    let s = this.layers.get(index);
    const now = Date.now();
    if (!s) {
      s = { digest, index, total, done: 0, phase, lastEmit: 0, lastLog: 0, started: now };
      this.layers.set(index, s);
    }
    s.phase = phase;
    if (done !== undefined) s.done = done;
    if (phase === "done" || phase === "exists" || phase === "downloaded") s.done = total;
    this.emitLayer(s, now);
    if (phase !== "downloading") log.debug({ pull: this.id, layer: digest, index, phase, done: s.done, total }, "layer");
  }

  /** Bytes downloaded so far (published at most every 100 ms per layer). */
  bytes(index: number, done: number): void {
    const s = this.layers.get(index);
    if (!s) return;
    s.done = done;
    const now = Date.now();
    if (now - s.lastEmit >= EMIT_EVERY_MS) this.emitLayer(s, now);
    if (now - s.lastLog >= LOG_EVERY_MS) {
      s.lastLog = now;
      const secs = (now - s.started) / 1000;
      log.debug({ pull: this.id, layer: s.digest, index, done, total: s.total, mbps: secs > 0 ? +(done / 1e6 / secs).toFixed(1) : 0 }, "downloading");
    }
  }

  private emitLayer(s: LayerState, now: number): void {
    s.lastEmit = now;
    this.feed.publish({ kind: "layer", pull: this.id, ref: this.ref, layer: s.digest, index: s.index, phase: s.phase, done: s.done, total: s.total, t: now });
  }
}
