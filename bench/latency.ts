// Tail latency of the calls kubelet makes all the time (List*, *Status, ListContainerStats,
// ExecSync) at 30 and 100 pods, idle and while pods start and stop, through any CRI client.
// `measureLatency(client, emit, label, opts)` needs only a connected client and a pullable image,
// so the same rows can be taken against another runtime; `latencyBench` runs it against Berth.
//
// Env: BENCH_LATENCY_PODS="30,100" (pod counts, default "30"; 100 takes ~1 min more), BENCH_LATENCY_CHURN=0 (idle only),
// BENCH_LATENCY_CALLS (samples per row, default 600), BENCH_LATENCY_DIAG=1 (record GC pauses and
// event-loop blocks in the daemon and in this process, and say what the slowest calls overlapped),
// BENCH_CPU_PROF=DIR (the daemon writes a V8 CPU profile there at exit).
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { call, type CriClient } from "../src/cli/client.js";
import { ContainerConfig, CreateContainerRequest, ListContainersRequest, ListPodSandboxRequest, RunPodSandboxRequest } from "../src/generated/runtime/v1/api.js";
import { openBenchHost } from "./kit.js";
import { startProbe, type ProbeEvent, type ProbeReport } from "./daemon-probe.js";
import { summary } from "./stats.js";
import { emit as stdoutEmit, type Emit } from "./emit.js";

export interface LatencyOptions {
  /** The image every pod's one container runs (`sleep`, `true` must exist in it); already pulled or pullable. */
  image: string;
  /** Pod counts to measure at (default from BENCH_LATENCY_PODS, else [30]). */
  podCounts?: number[];
  /** Samples per row (default from BENCH_LATENCY_CALLS, else 600). */
  calls?: number;
  /** Also measure with pods starting and stopping in the background (default true; BENCH_LATENCY_CHURN=0: false). */
  churn?: boolean;
  /** Where pods' log directories go (default: none given). */
  logRoot?: string;
  /** Called once the pods of each count are running, before any call is timed. */
  onPodsUp?: (count: number) => Promise<void>;
}

export interface LatencyRow {
  name: string;
  p50: number;
  p99: number;
  /** Each sample: epoch ms at the call's start and its duration, for lining up with GC and loop blocks. */
  samples: ProbeEvent[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function podReq(name: string, logRoot: string | undefined): RunPodSandboxRequest {
  return RunPodSandboxRequest.fromPartial({
    config: {
      metadata: { name, namespace: "bench-latency", uid: `uid-${name}`, attempt: 0 },
      hostname: name,
      labels: { app: name },
      ...(logRoot ? { logDirectory: join(logRoot, name) } : {}),
      linux: { securityContext: { namespaceOptions: { network: 0, ipc: 0, pid: 1 } } },
    },
  });
}

/** RunPodSandbox + CreateContainer + StartContainer, as kubelet does; returns the pod and container IDs. */
async function startPod(c: CriClient, image: string, name: string, logRoot: string | undefined): Promise<{ pod: string; ctr: string }> {
  const req = podReq(name, logRoot);
  const pod = (await call(c, c.runtime, c.runtime.runPodSandbox, req, 60_000)).podSandboxId;
  try {
    return { pod, ctr: await startContainer(c, image, pod, req, logRoot) };
  } catch (err) {
    await removePod(c, pod).catch(() => undefined);
    throw err;
  }
}

async function startContainer(c: CriClient, image: string, pod: string, req: RunPodSandboxRequest, logRoot: string | undefined): Promise<string> {
  const config = ContainerConfig.fromPartial({ metadata: { name: "app", attempt: 0 }, image: { image }, command: ["sleep", "100000"], ...(logRoot ? { logPath: "app/0.log" } : {}),
    linux: { resources: { memoryLimitInBytes: BigInt(64 << 20), cpuShares: 256n }, securityContext: { namespaceOptions: { pid: 1 } } },
  });
  const ctr = (await call(c, c.runtime, c.runtime.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: pod, config, sandboxConfig: req.config }), 60_000)).containerId;
  await call(c, c.runtime, c.runtime.startContainer, { containerId: ctr }, 60_000);
  return ctr;
}

async function removePod(c: CriClient, pod: string): Promise<void> {
  await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: pod }, 60_000);
  await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: pod }, 60_000);
}

/** One pod at a time started, then stopped and removed, until stopped: kubelet's churn. */
function startChurn(c: CriClient, image: string, logRoot: string | undefined): { stop(): Promise<number> } {
  let running = true;
  let cycles = 0;
  const loop = (async () => {
    while (running) {
      const { pod } = await startPod(c, image, `churn-${cycles}-${Math.random().toString(16).slice(2, 6)}`, logRoot);
      await removePod(c, pod);
      cycles++;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return cycles;
    },
  };
}

/** Times n calls after a warm-up; `selfTimed`: fn returns its own duration (it waits before the call). */
async function sampleCalls(n: number, fn: (i: number) => Promise<unknown>, selfTimed = false): Promise<ProbeEvent[]> {
  for (let i = 0; i < Math.min(50, n); i++) await fn(i); // warm: code paths compiled, answers cached
  const out: ProbeEvent[] = [];
  const origin = performance.timeOrigin;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fn(i);
    const ms = selfTimed ? (r as number) : performance.now() - t0;
    out.push({ at: origin + performance.now() - ms, ms });
  }
  return out;
}

function row(name: string, samples: ProbeEvent[]): LatencyRow {
  const s = summary(samples.map((x) => x.ms));
  return { name, p50: s.p50, p99: s.p99, samples };
}

/**
 * Measures the rows against whatever runtime `client` talks to, printing each as
 * `<label>_<rpc>_<pods>pods_<idle|churn>_p50|p99`. Leaves no pod of its own behind.
 */
export async function measureLatency(client: CriClient, emit: Emit, label: string, opts: LatencyOptions): Promise<LatencyRow[]> {
  const c = client;
  const counts = opts.podCounts ?? (process.env["BENCH_LATENCY_PODS"] ?? "30").split(",").map(Number);
  const n = opts.calls ?? Number(process.env["BENCH_LATENCY_CALLS"] ?? 600);
  const rows: LatencyRow[] = [];
  const mine: Array<{ pod: string; ctr: string }> = [];
  const put = (r: LatencyRow) => {
    rows.push(r);
    emit(`${label}_${r.name}_p50`, r.p50, "ms");
    emit(`${label}_${r.name}_p99`, r.p99, "ms");
  };
  try {
    for (const count of counts) {
      while (mine.length < count) {
        // The first pod alone: it makes the cgroup parent (concurrent first pods race on seeding a v1 cpuset).
        const batch = await Promise.allSettled(Array.from({ length: mine.length === 0 ? 1 : Math.min(10, count - mine.length) }, (_, i) => startPod(c, opts.image, `lat-${mine.length + i}`, opts.logRoot)));
        for (const b of batch) if (b.status === "fulfilled") mine.push(b.value);
        const failed = batch.find((b) => b.status === "rejected");
        if (failed) throw failed.reason;
      }
      const ctrs = mine.map((m) => m.ctr);
      const pods = mine.map((m) => m.pod);
      const listed = (await call(c, c.runtime, c.runtime.listContainers, ListContainersRequest.fromPartial({}))).containers.filter((x) => pods.includes(x.podSandboxId));
      if (listed.length !== count) throw new Error(`${label}: expected ${count} of our containers listed, found ${listed.length}`);
      await opts.onPodsUp?.(count);
      for (const mode of (opts.churn ?? process.env["BENCH_LATENCY_CHURN"] !== "0") ? ["idle", "churn"] : ["idle"]) {
        const churn = mode === "churn" ? startChurn(c, opts.image, opts.logRoot) : undefined;
        if (churn) await sleep(300);
        const tag = `${count}pods_${mode}`;
        put(row(`list_containers_${tag}`, await sampleCalls(n, () => call(c, c.runtime, c.runtime.listContainers, ListContainersRequest.fromPartial({})))));
        put(row(`list_podsandbox_${tag}`, await sampleCalls(n, () => call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({})))));
        put(row(`container_status_${tag}`, await sampleCalls(n, (i) => call(c, c.runtime, c.runtime.containerStatus, { containerId: ctrs[i % ctrs.length]!, verbose: false }))));
        put(row(`podsandbox_status_${tag}`, await sampleCalls(n, (i) => call(c, c.runtime, c.runtime.podSandboxStatus, { podSandboxId: pods[i % pods.length]!, verbose: false }))));
        put(row(`list_container_stats_${tag}`, await sampleCalls(Math.max(20, n / 10), () => call(c, c.runtime, c.runtime.listContainerStats, { filter: undefined }))));
        if (count === counts[0]) {
          const exec = () => call(c, c.runtime, c.runtime.execSync, { containerId: ctrs[0]!, cmd: ["true"], timeout: 10n });
          put(row(`exec_sync_true_${tag}`, await sampleCalls(Math.max(20, n / 15), exec)));
          // As kubelet's exec probes come: one at a time with a pause between (here 100 ms).
          put(row(`exec_sync_true_spaced_${tag}`, await sampleCalls(Math.max(20, n / 15), async () => {
            await sleep(100);
            const t0 = performance.now();
            await exec();
            return performance.now() - t0;
          }, true)));
        }
        if (churn) emit(`${label}_churn_cycles_${tag}`, await churn.stop(), "pods");
      }
    }
  } finally {
    for (const m of mine) await removePod(c, m.pod).catch(() => undefined);
  }
  return rows;
}

function overlaps(x: ProbeEvent, ys: ProbeEvent[]): ProbeEvent | undefined {
  return ys.find((y) => y.at < x.at + x.ms && y.at + y.ms > x.at);
}

/** For each row, of its slowest 1 % of calls: how many overlap a daemon GC, a daemon loop block, a client GC. */
function attribute(emit: Emit, rows: LatencyRow[], daemon: ProbeReport, client: ProbeReport): void {
  const dgc = daemon.gc.filter((g) => g.kind !== "weak");
  // A late timer whose span the main thread mostly ran through was busy; else it waited for a CPU.
  const busy = daemon.blocks.filter((b) => b.cpu >= b.ms / 2);
  const offCpu = daemon.blocks.filter((b) => b.cpu < b.ms / 2);
  for (const r of rows) {
    const slow = [...r.samples].sort((a, b) => b.ms - a.ms).slice(0, Math.max(3, Math.ceil(r.samples.length / 100)));
    const share = (f: (s: ProbeEvent) => boolean) => (100 * slow.filter(f).length) / slow.length;
    emit(`diag_${r.name}_slow1pct_overlap_daemon_gc`, share((s) => !!overlaps(s, dgc)), "%");
    emit(`diag_${r.name}_slow1pct_overlap_daemon_scavenge`, share((s) => !!overlaps(s, dgc.filter((g) => g.kind === "scavenge"))), "%");
    emit(`diag_${r.name}_slow1pct_overlap_daemon_loop_busy`, share((s) => !!overlaps(s, busy)), "%");
    emit(`diag_${r.name}_slow1pct_overlap_daemon_off_cpu`, share((s) => !!overlaps(s, offCpu)), "%");
    emit(`diag_${r.name}_slow1pct_overlap_daemon_spawn`, share((s) => !!overlaps(s, daemon.spawns)), "%");
    emit(`diag_${r.name}_slow1pct_overlap_client_gc`, share((s) => !!overlaps(s, client.gc.filter((g) => g.kind !== "weak"))), "%");
    emit(`diag_${r.name}_slow1pct_overlap_client_loop_block`, share((s) => !!overlaps(s, client.blocks)), "%");
    const from = r.samples[0]!.at;
    const to = r.samples[r.samples.length - 1]!.at + r.samples[r.samples.length - 1]!.ms;
    emit(`diag_${r.name}_daemon_scavenges_per_100_calls`, (100 * dgc.filter((g) => g.kind === "scavenge" && g.at >= from && g.at <= to).length) / r.samples.length, "gcs");
    emit(`diag_${r.name}_slow1pct_none`, share((s) => !overlaps(s, dgc) && !overlaps(s, daemon.blocks) && !overlaps(s, daemon.spawns) && !overlaps(s, client.gc) && !overlaps(s, client.blocks)), "%");
  }
  const sum = (xs: ProbeEvent[]) => xs.reduce((a, x) => a + x.ms, 0);
  emit("diag_daemon_loop_delay_p99", daemon.delay.p99, "ms");
  emit("diag_daemon_loop_delay_max", daemon.delay.max, "ms");
  emit("diag_daemon_scavenges", dgc.filter((g) => g.kind === "scavenge").length, "gcs");
  emit("diag_daemon_scavenge_p99", summary(dgc.filter((g) => g.kind === "scavenge").map((g) => g.ms)).p99, "ms");
  emit("diag_daemon_major_gcs", dgc.filter((g) => g.kind !== "scavenge").length, "gcs");
  emit("diag_daemon_gc_total", sum(dgc), "ms");
  emit("diag_daemon_loop_blocks", daemon.blocks.length, "blocks");
  emit("diag_daemon_loop_blocked_total", sum(daemon.blocks), "ms");
  emit("diag_daemon_loop_busy_blocks", busy.length, "blocks");
  emit("diag_daemon_loop_busy_total", sum(busy), "ms");
  emit("diag_daemon_loop_busy_p99", summary(busy.map((b) => b.ms)).p99, "ms");
  emit("diag_daemon_spawns", daemon.spawns.length, "spawns");
  emit("diag_daemon_spawn_block_p50", summary(daemon.spawns.map((x) => x.ms)).p50, "ms");
  emit("diag_daemon_spawn_block_p99", summary(daemon.spawns.map((x) => x.ms)).p99, "ms");
  emit("diag_daemon_spawn_block_total", sum(daemon.spawns), "ms");
  emit("diag_client_scavenges", client.gc.filter((g) => g.kind === "scavenge").length, "gcs");
  emit("diag_client_gc_total", sum(client.gc), "ms");
}

export async function latencyBench(emit: Emit): Promise<void> {
  const id = Math.random().toString(16).slice(2, 8);
  const diag = process.env["BENCH_LATENCY_DIAG"] === "1";
  const probeOut = join(tmpdir(), `berth-latency-probe-${id}.json`);
  const prof = process.env["BENCH_CPU_PROF"];
  const nodeOptions = [
    ...(diag ? [`--import=${pathToFileURL(join(import.meta.dirname, "daemon-probe.js")).href}`] : []),
    ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []),
  ].join(" ");
  const host = await openBenchHost("l", {
    subnet: "10.246.0.0/16",
    daemon: {
      // Users run at info; the fixture's debug would add a log line per call.
      args: ["--log-level", process.env["BENCH_LOG_LEVEL"] ?? "info"],
      env: { ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}), ...(diag ? { BENCH_PROBE_OUT: probeOut } : {}) },
    },
  });
  const { d, image } = host;
  const c = d.client;
  const stopClientProbe = diag ? startProbe() : undefined;
  let rows: LatencyRow[] = [];
  try {
    await call(c, c.image, c.image.pullImage, { image: { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined }, 60_000);
    rows = await measureLatency(c, emit, "berth", { image, logRoot: join(d.dir, "logs") }).catch((err: unknown) => {
      process.stderr.write(`${String(err)}\n${d.logs().slice(-3000)}\n`);
      void writeFile(join(tmpdir(), "berth-latency-failed.log"), d.logs());
      throw err;
    });
    emit("berth_load_avg_1m", Number((await readFile("/proc/loadavg", "utf8")).split(" ")[0]), "");
  } finally {
    await host.close();
  }
  if (stopClientProbe) {
    const daemon = JSON.parse(await readFile(probeOut, "utf8")) as ProbeReport;
    await rm(probeOut, { force: true });
    attribute(emit, rows, daemon, stopClientProbe());
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await latencyBench(stdoutEmit);
