// Daemon memory: idle RSS fresh, after real work (a pull, pods run and removed), with 30 pods
// running, and after 1k and 10k calls of a mix, each split by mapping (node binary, anon, malloc
// heap; the binary's pages also by component), with List p50/p99, so a start-up, V8 flag or leak
// fix shows what it costs or saves.
// BENCH_MEMORY_CALLS (default 10000) sets the long run; BENCH_MEMORY_METRICS=1 turns metrics on.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Daemon } from "../test/fixtures/daemon.js";
import { call } from "../src/cli/client.js";
import { runToStarted, stopRemovePod } from "./containers.js";
import { which } from "../src/util/which.js";
import { binaryPages } from "./binary-pages.js";
import { openBenchHost } from "./kit.js";
import { rssMiB, summary } from "./stats.js";
import type { Emit } from "./emit.js";

const RUNNING = 30;
const SETTLE_MS = 2000;

/** Resident MiB per mapping kind from /proc/PID/smaps: the node binary's pages, anonymous, [heap]. */
async function rssByMapping(pid: number): Promise<{ binary: number; anon: number; heap: number; other: number }> {
  const out = { binary: 0, anon: 0, heap: 0, other: 0 };
  let kind: keyof typeof out = "other";
  for (const line of (await readFile(`/proc/${pid}/smaps`, "utf8")).split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? "";
      kind = name === "" ? "anon" : name === "[heap]" ? "heap" : /\/node$/.test(name) ? "binary" : "other";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]) / 1024;
  }
  return out;
}

async function idle(emit: Emit, pid: number, name: string, settleMs = SETTLE_MS): Promise<number> {
  await new Promise((r) => setTimeout(r, settleMs));
  const rss = await rssMiB(pid);
  emit(`memory_rss_${name}`, rss, "MiB");
  for (const [k, v] of Object.entries(await rssByMapping(pid))) emit(`memory_${name}_${k}`, v, "MiB");
  return rss;
}

/** `n` calls of kubelet's steady mix over the running containers; returns ListContainers latencies. */
async function callMix(d: Daemon, ctrs: string[], pods: string[], n: number): Promise<number[]> {
  const c = d.client;
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (i % 5) {
      case 0:
        await call(c, c.runtime, c.runtime.version, { version: "" });
        break;
      case 1: {
        const t0 = performance.now();
        await call(c, c.runtime, c.runtime.listContainers, { filter: undefined });
        lat.push(performance.now() - t0);
        break;
      }
      case 2:
        await call(c, c.runtime, c.runtime.containerStatus, { containerId: ctrs[i % ctrs.length]!, verbose: false });
        break;
      case 3:
        await call(c, c.runtime, c.runtime.listPodSandbox, { filter: undefined });
        break;
      default:
        // ExecSync is ~100x a List: one in 25 calls keeps 10k calls within minutes.
        if (i % 25 === 4) await call(c, c.runtime, c.runtime.execSync, { containerId: ctrs[i % ctrs.length]!, cmd: ["true"], timeout: 10n }, 30_000);
        else await call(c, c.runtime, c.runtime.podSandboxStatus, { podSandboxId: pods[i % pods.length]!, verbose: false });
    }
  }
  return lat;
}

export async function memoryBench(emit: Emit): Promise<void> {
  const calls = Number(process.env["BENCH_MEMORY_CALLS"] ?? 10_000);
  const host = await openBenchHost("m", {
    subnet: "10.246.0.0/16",
    daemon: { args: ["--log-level", "info"], ...(process.env["BENCH_MEMORY_METRICS"] === "1" ? { env: { BERTH_METRICS_ADDRESS: "127.0.0.1:0" } } : {}) },
  });
  const { d, image } = host;
  const c = d.client;
  const pid = d.proc.pid!;
  const logRoot = join(d.dir, "logs");
  const pods: string[] = [];
  try {
    await idle(emit, pid, "idle_fresh");
    await call(c, c.image, c.image.pullImage, { image: { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined }, 60_000);
    for (let i = 0; i < 3; i++) await stopRemovePod(d, (await runToStarted(d, image, logRoot, `work-${i}`)).pod);
    // Idle means past the unpack workers' idle stop (10 s): right after, they still hold their heaps.
    await idle(emit, pid, "idle_after_work_2s");
    await idle(emit, pid, "idle_after_work", 11_000);
    if (which("nm")) {
      const pages = [...(await binaryPages(pid))].sort((a, b) => b[1] - a[1]);
      for (const [part, mib] of pages) emit(`memory_idle_after_work_binary_${part.replace(/[^a-z0-9]+/g, "_")}`, mib, "MiB");
    } else process.stdout.write("memory: `nm` (binutils) not found: the node binary's pages by component are left out\n");

    const ctrs: string[] = [];
    for (let i = 0; i < RUNNING; i++) {
      const s = await runToStarted(d, image, logRoot, `run-${i}`);
      pods.push(s.pod);
      ctrs.push(s.ctr);
    }
    await idle(emit, pid, "30_pods");
    const warm = Math.min(1000, calls);
    const first = summary(await callMix(d, ctrs, pods, warm));
    emit("memory_list_containers_30_pods_p50", first.p50, "ms");
    emit("memory_list_containers_30_pods_p99", first.p99, "ms");
    await idle(emit, pid, `after_${warm}_calls`);
    if (calls > warm) {
      const rest = summary(await callMix(d, ctrs, pods, calls - warm));
      emit(`memory_list_containers_30_pods_late_p99`, rest.p99, "ms");
      await idle(emit, pid, `after_${calls}_calls`);
    }
    for (const p of pods.splice(0)) await stopRemovePod(d, p);
    await idle(emit, pid, "idle_after_all", 11_000);
  } finally {
    await Promise.allSettled(pods.map((p) => stopRemovePod(d, p)));
    await host.close();
  }
}
