// Pod sandbox benchmarks over one persistent gRPC connection to a real daemon with Debian's CNI
// plugins: RunPodSandbox one after another and 10 at once, Stop+Remove, and each step's cost.
import { readFile, readdir, rmdir, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { call } from "../src/cli/client.js";
import { startDaemon, type Daemon } from "../test/fixtures/daemon.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import { summary } from "./stats.js";
import type { Emit } from "./emit.js";

const run = promisify(execFile);
const SEQUENTIAL = 30;
const PARALLEL = 10;
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";

async function runPod(d: Daemon, name: string): Promise<{ id: string; ms: number }> {
  const c = d.client;
  // kubelet's shape: own network, IPC and UTS; PID per container; DNS from the cluster.
  const req = podRequest({ name, config: { dnsConfig: { servers: ["10.96.0.10"], searches: ["default.svc.cluster.local", "svc.cluster.local"], options: ["ndots:5"] } } });
  const t0 = performance.now();
  const r = await call(c, c.runtime, c.runtime.runPodSandbox, req, 60_000);
  return { id: r.podSandboxId, ms: performance.now() - t0 };
}

async function stopRemove(d: Daemon, id: string): Promise<number> {
  const c = d.client;
  const t0 = performance.now();
  await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: id }, 60_000);
  await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: id }, 60_000);
  return performance.now() - t0;
}

/** Medians of the per-step timings the daemon logs at debug for each pod ("pod sandbox ready" etc.). */
function stepMedians(logs: string, msg: string): Record<string, number> {
  const samples: Record<string, number[]> = {};
  for (const line of logs.split("\n")) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    const ms = (JSON.parse(line) as { ms?: Record<string, number> }).ms ?? {};
    for (const [k, v] of Object.entries(ms)) (samples[k] ??= []).push(v);
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v).p50]));
}

export async function podsBench(emit: Emit): Promise<void> {
  const id = Math.random().toString(16).slice(2, 8);
  const bridge = `bb${id}`;
  const cgroupParent = `/berth-bench-${id}`;
  const ipForward = (await readFile(IP_FORWARD, "utf8")).trim();
  const d = await startDaemon({ toml: `[pods]\ncgroup_parent = "${cgroupParent}"\n` });
  try {
    const confDir = join(d.dir, "net.d");
    await mkdir(confDir, { recursive: true });
    await writeFile(
      join(confDir, "10-bench.conflist"),
      JSON.stringify({
        cniVersion: "1.0.0",
        name: `berth-bench-${id}`,
        plugins: [
          { type: "bridge", bridge, isGateway: true, ipMasq: false, hairpinMode: false, ipam: { type: "host-local", ranges: [[{ subnet: "10.248.0.0/16" }]], dataDir: join(d.dir, "ipam") } },
          { type: "portmap", capabilities: { portMappings: true } },
        ],
      }),
    );
    // Warm-up: the bridge is made, plugin binaries and daemon code paths are paged in.
    for (let i = 0; i < 3; i++) await stopRemove(d, (await runPod(d, `warm-${i}`)).id);
    const warmLogs = d.logs().length;

    const runs: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const r = await runPod(d, `seq-${i}`);
      runs.push(r.ms);
      ids.push(r.id);
    }
    const removes: number[] = [];
    for (const pod of ids) removes.push(await stopRemove(d, pod));
    const seqLogs = d.logs().slice(warmLogs);

    const t0 = performance.now();
    const together = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => runPod(d, `par-${i}`)));
    const allReady = performance.now() - t0;
    await Promise.all(together.map((r) => stopRemove(d, r.id)));

    const s = summary(runs);
    emit("runpodsandbox_seq_p50", s.p50, "ms");
    emit("runpodsandbox_seq_p90", s.p90, "ms");
    emit("runpodsandbox_seq_max", s.max, "ms");
    const p = summary(together.map((r) => r.ms));
    emit("runpodsandbox_10_at_once_all_ready", allReady, "ms");
    emit("runpodsandbox_10_at_once_p50", p.p50, "ms");
    const r = summary(removes);
    emit("stop_remove_seq_p50", r.p50, "ms");
    emit("stop_remove_seq_p90", r.p90, "ms");
    emit("stop_remove_seq_max", r.max, "ms");
    // Step costs inside the daemon, sequential run (steps overlap: pin -> CNI ADD -> hosts is the critical path).
    for (const [k, v] of Object.entries(stepMedians(seqLogs, "pod sandbox ready"))) emit(`runpodsandbox_step_${k}_p50`, v, "ms");
    for (const [k, v] of Object.entries(stepMedians(seqLogs, "pod sandbox stopped"))) emit(`stoppodsandbox_step_${k.replace(/\+/g, "_")}_p50`, v, "ms");
    for (const [k, v] of Object.entries(stepMedians(seqLogs, "pod sandbox released"))) emit(`removepodsandbox_step_${k.replace(/\+/g, "_")}_p50`, v, "ms");
  } finally {
    await d.stop();
    await run("ip", ["link", "del", bridge]).catch(() => undefined);
    for (const h of await readdir("/sys/fs/cgroup")) await rmdir(join("/sys/fs/cgroup", h, cgroupParent)).catch(() => undefined);
    await writeFile(IP_FORWARD, ipForward);
  }
}
