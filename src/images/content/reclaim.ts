// Downloads allocate a fresh buffer per socket read (and an unpack worker's decompressor one per
// output chunk) that V8 frees only once a GC finds it dead; at loopback speed tens of MiB of them
// pile up before V8's external-memory trigger fires. Each isolate (daemon, worker) counts its own.
// Once a burst of them is over, what glibc's malloc keeps of the freed buffers goes back to the OS.
import { createRequire } from "node:module";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

// A young-generation GC per this many downloaded bytes: the reads are still young, so a
// scavenge (~0.5 ms) frees them. bench pull (210 MB): peak RSS 176-214 → 150-158 MiB (4 MiB);
// 2 MiB with 256 KiB stream buffers and the workers' own count: 127-133 → 116-121 MiB.
const EVERY = 2 * 1024 * 1024;
/** Quiet time after the last burst before the heap is collected and malloc trimmed. */
const SETTLE_MS = 1000;

type Gc = (opts: { type: "minor" | "major"; execution?: "sync" }) => void;

let gc: Gc | null | undefined;
let since = 0;

function load(): Gc | null {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") return exposed as Gc;
  try {
    // The documented way to reach gc() without starting Node with --expose-gc.
    setFlagsFromString("--expose-gc");
    const fn: unknown = runInNewContext("gc");
    return typeof fn === "function" ? (fn as Gc) : null;
  } catch {
    return null;
  }
}

/** Counts bytes of short-lived buffers made (downloaded, inflated); runs a young-generation GC every EVERY bytes. */
export function downloaded(bytes: number): void {
  since += bytes;
  if (since < EVERY) return;
  since = 0;
  gc ??= load();
  gc?.({ type: "minor" });
}

let trim: (() => void) | null | undefined;
let settleTimer: NodeJS.Timeout | undefined;

function loadTrim(): (() => void) | null {
  try {
    const koffi = createRequire(import.meta.url)("koffi") as { load(name: string): { func(sig: string): (pad: number) => number } };
    const fn = koffi.load("libc.so.6").func("int malloc_trim(size_t pad)");
    return () => void fn(0);
  } catch {
    return null;
  }
}

/**
 * Call when a burst of short-lived buffers is over (a pull ended, a worker stopped): once quiet for
 * SETTLE_MS, one full GC frees the dead buffers and malloc_trim returns the pages glibc kept free
 * in its arenas (freed memory stays resident otherwise: idle RSS after a pull stayed ~20 MiB up).
 */
export function burstOver(): void {
  if (settleTimer) settleTimer.refresh();
  else {
    settleTimer = setTimeout(() => {
      settleTimer = undefined;
      gc ??= load();
      gc?.({ type: "major" });
      trim ??= loadTrim();
      trim?.();
    }, SETTLE_MS);
    settleTimer.unref();
  }
}
