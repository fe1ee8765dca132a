// The layer applier beside GNU tar on 10,000 small files, both on one tmpfs so the figure is
// Berth's cost, not the disk's (this VM's ext4 swings from 0.3 s to 7 s for GNU tar on the same tar).
import { execFile } from "node:child_process";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { applyLayer } from "../src/images/unpack/apply.js";
import { buildTar, streamOf, type E } from "../test/fixtures/layer-kit.js";
import { emit as print, type Emit } from "./emit.js";
import { summary } from "./stats.js";

const run = promisify(execFile);
const ROUNDS = 3;

export async function unpackTarBench(emit: Emit): Promise<void> {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), "berth-bench-unpack-"));
  let mounted = false;
  try {
    await run("mount", ["-t", "tmpfs", "-o", "size=512m", "berth-bench", base]);
    mounted = true;
    const entries: E[] = [];
    for (let d = 0; d < 100; d++) {
      entries.push({ name: `usr/share/d${d}/`, type: "directory" });
      for (let f = 0; f < 100; f++) entries.push({ name: `usr/share/d${d}/file${f}.txt`, data: `content ${d}/${f}\n`.repeat(20) });
    }
    const tarball = await buildTar(entries);
    const tarFile = path.join(base, "layer.tar");
    await fsp.writeFile(tarFile, tarball);
    await applyLayer(streamOf(await buildTar([{ name: "warm", data: "up" }])), { root: path.join(base, "warm"), lowers: [] });
    const berth: number[] = [];
    const gnu: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      await applyLayer(streamOf(tarball), { root: path.join(base, `berth${i}`), lowers: [] });
      berth.push(performance.now() - t);
      await fsp.mkdir(path.join(base, `gnu${i}`));
      t = performance.now();
      await run("tar", ["-xpf", tarFile, "-C", path.join(base, `gnu${i}`)]);
      gnu.push(performance.now() - t);
      await fsp.rm(path.join(base, `berth${i}`), { recursive: true });
      await fsp.rm(path.join(base, `gnu${i}`), { recursive: true });
    }
    emit("unpack_10k_small_files_p50", summary(berth).p50, "ms");
    emit("unpack_10k_small_files_gnu_tar_p50", summary(gnu).p50, "ms");
  } finally {
    if (mounted) await run("umount", [base]);
    await fsp.rm(base, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await unpackTarBench(print);
