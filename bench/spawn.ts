// How long starting a child holds the daemon's event loop, Node's spawn() against Berth's
// posix_spawn, at a daemon-like heap (~100 MiB RSS); the loop's worst gap while children start.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import type { Emit } from "./emit.js";
import { spawnProcess } from "../src/util/spawn.js";

const RUNS = Number(process.env["BENCH_SPAWN_RUNS"] ?? 200);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}

async function measure(start: () => Promise<void>): Promise<{ block: number[]; gaps: number[]; per: number }> {
  const block: number[] = [];
  const gaps: number[] = [];
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) {
    const b0 = performance.now();
    const done = start();
    block.push(performance.now() - b0);
    await done;
  }
  const per = (performance.now() - t0) / RUNS;
  clearInterval(ticker);
  block.sort((a, b) => a - b);
  gaps.sort((a, b) => a - b);
  return { block, gaps, per };
}

export async function spawnBench(emit: Emit): Promise<void> {
  // A heap the size of a working daemon's, so fork has page tables to copy.
  const ballast = Array.from({ length: 150_000 }, (_, i) => ({ i, s: `x${i}`, a: [i] }));
  const buf = Buffer.alloc(16 * 1024 * 1024, 1);
  emit("spawn_rss", process.memoryUsage().rss / 1048576, "MiB");
  const node = (): Promise<void> =>
    new Promise((res) => {
      const c = spawn("/bin/true", [], { stdio: ["ignore", "pipe", "pipe"], detached: true });
      c.on("close", () => res());
    });
  const posix = (): Promise<void> =>
    new Promise((res) => {
      const c = spawnProcess("/bin/true", [], { stdio: ["ignore", "out", "out"], detached: true });
      c.on("close", () => res());
    });
  for (const [name, fn] of [["node_spawn", node], ["posix_spawn", posix]] as const) {
    await measure(fn); // warm-up
    const m = await measure(fn);
    emit(`spawn_${name}_loop_block_p50`, quantile(m.block, 0.5), "ms");
    emit(`spawn_${name}_loop_block_p99`, quantile(m.block, 0.99), "ms");
    emit(`spawn_${name}_loop_gap_max`, m.gaps.at(-1) ?? 0, "ms");
    emit(`spawn_${name}_per_child`, m.per, "ms");
  }
  if (ballast.length + buf.length < 0) emit("unreachable", 0, "");
}
