// Pull benchmarks against the loopback registry: a ~210 MB image of 5 incompressible gzip
// layers, an image of 10,000 small files, and a tiny image; wall time, MB/s, daemon CPU, peak RSS.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call } from "../src/cli/client.js";
import { startDaemon, type Daemon } from "../test/fixtures/daemon.js";
import { pushImage, type PushedImage } from "../test/fixtures/images.js";
import { buildTar, type LayerEntry } from "../test/fixtures/layers.js";
import { startRegistry, writeHostsToml, type FixtureRegistry } from "../test/fixtures/registry.js";
import type { Emit } from "./emit.js";

const RUNS = 3;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

async function rssKiB(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** Random bytes gzip'd as stored blocks (what gzip makes of incompressible data), quickly. */
function incompressibleLayer(bytes: number): Promise<Buffer> {
  return buildTar([{ type: "file", path: "data.bin", content: randomBytes(bytes) }]);
}

function smallFilesLayer(n: number): Promise<Buffer> {
  const entries: LayerEntry[] = [];
  const perDir = 100;
  for (let d = 0; d < n / perDir; d++) {
    entries.push({ type: "dir", path: `d${d}` });
    for (let f = 0; f < perDir; f++) entries.push({ type: "file", path: `d${d}/f${f}`, content: `file ${d}/${f}\n`.repeat(4) });
  }
  return buildTar(entries);
}

interface Sample {
  ms: number;
  cpu: number;
  peakRssMiB: number;
}

async function pullOnce(d: Daemon, ref: string): Promise<Sample> {
  const pid = d.proc.pid!;
  const c = d.client;
  let peak = await rssKiB(pid);
  let polling = true;
  const poll = (async () => {
    while (polling) {
      peak = Math.max(peak, await rssKiB(pid).catch(() => 0));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const cpu0 = await cpuSeconds(pid);
  const t0 = performance.now();
  await call(c, c.image, c.image.pullImage, {
    image: { image: ref, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined,
  }, 120_000);
  const ms = performance.now() - t0;
  const cpu = (await cpuSeconds(pid)) - cpu0;
  polling = false;
  await poll;
  // Next run pulls cold again.
  await call(c, c.image, c.image.removeImage, { image: { image: ref, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" } });
  return { ms, cpu, peakRssMiB: peak / 1024 };
}

async function measure(emit: Emit, d: Daemon, name: string, img: PushedImage): Promise<void> {
  const bytes = img.layers.reduce((n, l) => n + l.size, 0);
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await pullOnce(d, img.reference));
  samples.sort((a, b) => a.ms - b.ms);
  const med = samples[Math.floor(samples.length / 2)]!;
  emit(`pull_${name}_bytes`, bytes / 1e6, "MB");
  emit(`pull_${name}_wall_p50`, med.ms, "ms");
  emit(`pull_${name}_wall_best`, samples[0]!.ms, "ms");
  emit(`pull_${name}_rate_p50`, bytes / 1e6 / (med.ms / 1000), "MB/s");
  emit(`pull_${name}_daemon_cpu_p50`, med.cpu * 1000, "ms");
  emit(`pull_${name}_daemon_peak_rss`, Math.max(...samples.map((s) => s.peakRssMiB)), "MiB");
}

export async function pullBench(emit: Emit): Promise<void> {
  const reg: FixtureRegistry = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-certsd-"));
  let d: Daemon | undefined;
  try {
    await writeHostsToml(certsD, reg);
    const layerBytes = 42 * 1000 * 1000;
    const bigTars = await Promise.all(Array.from({ length: 5 }, () => incompressibleLayer(layerBytes)));
    const big = await pushImage(reg, { repo: "bench/big", tag: "v1", layers: bigTars.map((tar) => ({ tar })) });
    const small = await pushImage(reg, { repo: "bench/small-files", tag: "v1", layers: [{ tar: await smallFilesLayer(10_000) }] });
    const tiny = await pushImage(reg, { repo: "bench/tiny", tag: "v1", layers: [{ entries: [{ type: "file", path: "hello", content: "hello\n" }] }] });
    d = await startDaemon({ toml: `[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "none.conf")}"\n`, args: ["--log-level", "info"] });
    await new Promise((r) => setTimeout(r, 500));
    emit("pull_daemon_idle_rss", (await rssKiB(d.proc.pid!)) / 1024, "MiB");
    await measure(emit, d, "210mb_5_layers", big);
    await measure(emit, d, "10k_files", small);
    await measure(emit, d, "tiny", tiny);
  } finally {
    await d?.stop();
    await reg.stop();
    await rm(certsD, { recursive: true, force: true });
  }
}
