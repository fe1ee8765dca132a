// Layer unpack benchmarks without a daemon or registry: a tar applied from memory by the unpack
// pool: 10,000 small files, and xattrs plus whiteouts (where a process per item would show).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { applyLayer } from "../src/images/unpack/apply.js";
import { unpackPool } from "../src/images/unpack/pool.js";
import { buildTar, type LayerEntry } from "../test/fixtures/layers.js";
import type { Emit } from "./emit.js";
import { summary } from "./stats.js";

const RUNS = 5;

function smallFiles(n: number): LayerEntry[] {
  const entries: LayerEntry[] = [];
  for (let d = 0; d < n / 100; d++) {
    entries.push({ type: "dir", path: `d${d}` });
    for (let f = 0; f < 100; f++) entries.push({ type: "file", path: `d${d}/f${f}`, content: `file ${d}/${f}\n`.repeat(4) });
  }
  return entries;
}

/** n files each with one user xattr, then n whiteouts (char 0/0 devices in the layer). */
function xattrsAndWhiteouts(n: number): LayerEntry[] {
  const entries: LayerEntry[] = [{ type: "dir", path: "x" }];
  for (let i = 0; i < n; i++) entries.push({ type: "file", path: `x/f${i}`, content: "x\n", xattrs: { "user.bench": `v${i}` } });
  for (let i = 0; i < n; i++) entries.push({ type: "whiteout", path: `gone/w${i}` });
  return entries;
}

async function timeApply(tar: Buffer): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = await mkdtemp(join(tmpdir(), "berth-bench-unpack-"));
    try {
      const t0 = performance.now();
      await applyLayer(Readable.from([tar]), { root: join(dir, "diff"), lowers: [] });
      ms.push(performance.now() - t0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return ms;
}

export async function unpackBench(emit: Emit): Promise<void> {
  try {
    const small = await buildTar(smallFiles(10_000));
    const s = summary(await timeApply(small));
    emit("unpack_10k_files_p50", s.p50, "ms");
    emit("unpack_10k_files_max", s.max, "ms");
    const xw = await buildTar(xattrsAndWhiteouts(500));
    const x = summary(await timeApply(xw));
    emit("unpack_500_xattrs_500_whiteouts_p50", x.p50, "ms");
  } finally {
    await unpackPool().close();
  }
}
