// Bench-only preload (`NODE_OPTIONS=--import dist/bench/daemon-probe.js`) that records, inside a
// process, when its event loop was blocked and when V8 collected garbage, for bench/latency.ts.
// It writes JSON to $BENCH_PROBE_OUT at exit; nothing in src/ knows about it.
import { subscribe } from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { monitorEventLoopDelay, PerformanceObserver, performance, constants } from "node:perf_hooks";

export interface ProbeEvent {
  /** Epoch milliseconds (performance.timeOrigin based, comparable across processes). */
  at: number;
  ms: number;
}

export interface ProbeReport {
  /** Garbage collections: kind "scavenge" | "mark-sweep" | "incremental" | "weak" | other. */
  gc: Array<ProbeEvent & { kind: string }>;
  /** Spans where a 1 ms timer fired late by more than BLOCK_MS; `cpu`: ms the main thread ran in that span
   * (near `ms`: the loop was busy; near 0: the process waited for a CPU or in a blocking call). */
  blocks: Array<ProbeEvent & { cpu: number }>;
  /** Each child_process.spawn() and posix_spawn start: how long it held the loop (fork of this process, exec of the child). */
  spawns: Array<ProbeEvent & { file: string }>;
  /** Event-loop delay histogram (perf_hooks, 1 ms resolution), in ms. */
  delay: { p50: number; p99: number; max: number; count: number };
}

const BLOCK_MS = 2;
const require = createRequire(import.meta.url);

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "mark-sweep",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak",
};

/** CPU time of this (main) thread in ms. */
function threadCpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

export function startProbe(): () => ProbeReport {
  const origin = performance.timeOrigin;
  const gc: ProbeReport["gc"] = [];
  const blocks: ProbeReport["blocks"] = [];
  const spawns: ProbeReport["spawns"] = [];
  // Every spawn of the process (execFile and exec go through it), timed; ESM importers see the wrapper.
  const cp = require("node:child_process") as typeof import("node:child_process");
  const original = cp.spawn;
  const timed = function (this: unknown, ...args: Parameters<typeof original>) {
    const t0 = performance.now();
    try {
      return Reflect.apply(original, this, args);
    } finally {
      spawns.push({ at: origin + t0, ms: performance.now() - t0, file: String(args[0]) });
    }
  } as typeof original;
  cp.spawn = timed;
  syncBuiltinESMExports();
  // Berth's own posix_spawn starts report themselves on a diagnostics channel (SPAWN_CHANNEL in src/util/spawn.ts).
  subscribe("berth:spawn", (m) => {
    const { file, ms } = m as { file: string; ms: number };
    spawns.push({ at: origin + performance.now() - ms, ms, file });
  });
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = ((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? -1;
      gc.push({ at: origin + e.startTime, ms: e.duration, kind: KINDS[kind] ?? String(kind) });
    }
  });
  obs.observe({ entryTypes: ["gc"] });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let last = performance.now();
  let lastCpu = threadCpuMs();
  const tick = setInterval(() => {
    const now = performance.now();
    const cpu = threadCpuMs();
    const late = now - last - 1;
    if (late > BLOCK_MS) blocks.push({ at: origin + last + 1, ms: late, cpu: cpu - lastCpu });
    last = now;
    lastCpu = cpu;
  }, 1);
  tick.unref();
  return () => {
    obs.disconnect();
    h.disable();
    clearInterval(tick);
    return { gc, blocks, spawns, delay: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, count: h.count } };
  };
}

const out = process.env["BENCH_PROBE_OUT"];
if (out) {
  const stop = startProbe();
  process.once("exit", () => writeFileSync(out, JSON.stringify(stop())));
}
