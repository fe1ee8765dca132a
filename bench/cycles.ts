// Leak bench: the daemon's RSS, heap (live, after a full GC, with BENCH_LIVE_HEAP=1) and open fds before and after BENCH_CYCLES
// (default 1000) container create/start/stop/remove cycles in a few pods, then BENCH_POD_CYCLES (200) pod run/remove cycles.
import { mkdtemp, readdir, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call } from "../src/cli/client.js";
import { ContainerConfig, CreateContainerRequest } from "../src/generated/runtime/v1/api.js";
import type { Daemon } from "../test/fixtures/daemon.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import { openBenchHost, removePod } from "./kit.js";
import { rssMiB } from "./stats.js";
import type { Emit } from "./emit.js";

const CYCLES = Number(process.env["BENCH_CYCLES"] ?? 1000);
const POD_CYCLES = Number(process.env["BENCH_POD_CYCLES"] ?? 200);
/** Pods the container cycles run in, one worker each. */
const WORKERS = 4;

/** What each open fd of the daemon points at (socket:[..], pipe:[..], a path). */
async function fds(pid: number): Promise<string[]> {
  const names = await readdir(`/proc/${pid}/fd`);
  return Promise.all(names.map((n) => readlink(`/proc/${pid}/fd/${n}`).catch(() => "gone")));
}

/** Kinds of fd with their counts ("socket", "pipe", "anon_inode:[eventfd]", or the path). */
function kinds(list: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of list) {
    const k = f.replace(/:\[\d+\]$/, "");
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** The daemon's V8 heap in use (MiB), from its /metrics (nodejs_heap_size_used_bytes). */
async function heapUsedMiB(d: Daemon): Promise<number> {
  const address = /"address":"([^"]+)","msg":"metrics listening"/.exec(d.logs())?.[1];
  if (!address) return NaN;
  const text = await (await fetch(`http://${address}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1]) / 2 ** 20;
}

/**
 * A full GC in the daemon: SIGUSR2 makes it write a heap snapshot (--heapsnapshot-signal), which
 * collects first; waits for the file to be written (kept in `snapDir` when BENCH_KEEP_SNAPSHOTS is set).
 */
async function fullGc(d: Daemon, snapDir: string): Promise<void> {
  const before = new Set(await readdir(snapDir));
  process.kill(d.proc.pid!, "SIGUSR2");
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const fresh = (await readdir(snapDir)).filter((n) => !before.has(n));
    // The snapshot is written in one go by the main thread: once the daemon answers again, it is done.
    if (fresh.length > 0 && (await heapUsedMiB(d).then(() => true, () => false))) {
      if (!process.env["BENCH_KEEP_SNAPSHOTS"]) for (const n of fresh) await rm(join(snapDir, n), { force: true });
      return;
    }
  }
}

/** With BENCH_LIVE_HEAP=1 the heap is measured after a full GC (a snapshot: its writing leaves RSS high, so RSS figures then mean little). */
const LIVE_HEAP = process.env["BENCH_LIVE_HEAP"] === "1";
const HEAP = LIVE_HEAP ? "cycles_heap_live" : "cycles_heap_used";

/** RSS and fds once idle, then the heap in use (live after a full GC with BENCH_LIVE_HEAP=1). */
async function settle(d: Daemon, snapDir: string): Promise<{ rss: number; heap: number; fds: string[] }> {
  await new Promise((r) => setTimeout(r, 3000)); // exits recorded, timers fired
  const rss = await rssMiB(d.proc.pid!);
  const open = await fds(d.proc.pid!);
  if (LIVE_HEAP) await fullGc(d, snapDir);
  return { rss, heap: await heapUsedMiB(d), fds: open };
}

async function containerCycle(d: Daemon, pod: string, podReq: ReturnType<typeof podRequest>, image: string, n: number): Promise<void> {
  const c = d.client;
  const config = ContainerConfig.fromPartial({ metadata: { name: `c${n}`, attempt: 0 }, image: { image }, command: ["sleep", "100000"], logPath: `c${n}/0.log` });
  const id = (await call(c, c.runtime, c.runtime.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: pod, config, sandboxConfig: podReq.config }), 60_000)).containerId;
  await call(c, c.runtime, c.runtime.startContainer, { containerId: id }, 60_000);
  await call(c, c.runtime, c.runtime.stopContainer, { containerId: id, timeout: 0n }, 60_000);
  await call(c, c.runtime, c.runtime.removeContainer, { containerId: id }, 60_000);
}

export async function cyclesBench(emit: Emit): Promise<void> {
  const snapDir = await mkdtemp(join(tmpdir(), "berth-bench-heap-"));
  const host = await openBenchHost("y", {
    subnet: "10.246.0.0/16",
    daemon: {
      args: ["--log-level", process.env["BENCH_LOG_LEVEL"] ?? "info"],
      env: { BERTH_METRICS_ADDRESS: "127.0.0.1:0", NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapDir}` },
    },
  });
  const { d, image } = host;
  const c = d.client;
  const logRoot = join(d.dir, "logs");
  const pods: string[] = [];
  try {
    await call(c, c.image, c.image.pullImage, { image: { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined }, 60_000);
    const reqs = Array.from({ length: WORKERS }, (_, i) => podRequest({ name: `cyc-${i}`, config: { logDirectory: join(logRoot, `cyc-${i}`) } }));
    for (const r of reqs) pods.push((await call(c, c.runtime, c.runtime.runPodSandbox, r, 60_000)).podSandboxId);
    // Warm-up: code paths, pools and caches filled before the "before" figures.
    let n = 0;
    await Promise.all(pods.map((p, i) => (async () => { for (let k = 0; k < 5; k++) await containerCycle(d, p, reqs[i]!, image, n++); })()));
    for (let k = 0; k < 5; k++) await removePod(d, (await call(c, c.runtime, c.runtime.runPodSandbox, podRequest({ name: `warm-${k}` }), 60_000)).podSandboxId);
    const before = await settle(d, snapDir);
    emit("cycles_rss_before", before.rss, "MiB");
    emit(`${HEAP}_before`, before.heap, "MiB");
    emit("cycles_fds_before", before.fds.length, "fds");

    let left = CYCLES;
    const t0 = performance.now();
    let mid: number | undefined;
    await Promise.all(pods.map((p, i) => (async () => {
      while (left > 0) {
        left--;
        await containerCycle(d, p, reqs[i]!, image, n++);
        if (mid === undefined && left <= CYCLES / 2) {
          mid = NaN; // one worker measures
          mid = await rssMiB(d.proc.pid!);
        }
      }
    })()));
    const secs = (performance.now() - t0) / 1000;
    emit("cycles_container_cycles", CYCLES, "cycles");
    emit("cycles_container_cycles_per_second", CYCLES / secs, "cycles/s");
    emit("cycles_rss_halfway", mid ?? NaN, "MiB");

    const t1 = performance.now();
    for (let k = 0; k < POD_CYCLES; k++) await removePod(d, (await call(c, c.runtime, c.runtime.runPodSandbox, podRequest({ name: `cycle-${k}` }), 60_000)).podSandboxId);
    emit("cycles_pod_cycles", POD_CYCLES, "cycles");
    emit("cycles_pod_cycles_per_second", POD_CYCLES / ((performance.now() - t1) / 1000), "cycles/s");

    const after = await settle(d, snapDir);
    emit("cycles_rss_after", after.rss, "MiB");
    emit(`${HEAP}_after`, after.heap, "MiB");
    emit("cycles_fds_after", after.fds.length, "fds");
    const was = kinds(before.fds);
    for (const [k, v] of kinds(after.fds)) if (v > (was.get(k) ?? 0)) process.stderr.write(`cycles: fds of kind ${k}: ${was.get(k) ?? 0} -> ${v}\n`);
  } finally {
    await Promise.allSettled(pods.map((p) => removePod(d, p)));
    await host.close();
    if (!process.env["BENCH_KEEP_SNAPSHOTS"]) await rm(snapDir, { recursive: true, force: true });
    else process.stderr.write(`cycles: heap snapshots in ${snapDir}\n`);
  }
}
