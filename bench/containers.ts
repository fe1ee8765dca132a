// Container benchmarks over one persistent gRPC connection to a real daemon (busybox from a local
// registry, Debian's CNI plugins): run-to-started one after another and 10 at once, with the bare
// floor measured in the same run; List/Status at 100 running pods; ExecSync; Stop+Remove; memory.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { call } from "../src/cli/client.js";
import { mountOverlay, unmountOverlay } from "../src/containers/rootfs/overlay.js";
import { Metadata } from "@grpc/grpc-js";
import { ContainerConfig, ContainerStatusRequest, ListContainersRequest, ListPodSandboxRequest } from "../src/generated/runtime/v1/api.js";
import { CniNetwork } from "../src/network/cni/network.js";
import { pinNamespaces, unpinNamespaces } from "../src/pods/namespaces.js";
import type { Daemon } from "../test/fixtures/daemon.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import { openBenchHost, startPodWithContainer } from "./kit.js";
import { rssMiB, summary } from "./stats.js";
import type { Emit } from "./emit.js";

const SEQUENTIAL = 30;
const PARALLEL = 10;
const RUNNING = 100;

interface Started {
  pod: string;
  ctr: string;
  ms: number;
}

export async function runToStarted(d: Daemon, image: string, logRoot: string, name: string): Promise<Started> {
  // kubelet's shape: own network, IPC and UTS, PID per container, cluster DNS, a log dir.
  const podReq = podRequest({ name, config: { logDirectory: join(logRoot, name), dnsConfig: { servers: ["10.96.0.10"], searches: ["default.svc.cluster.local"], options: ["ndots:5"] } } });
  const config = ContainerConfig.fromPartial({
    metadata: { name: "app", attempt: 0 },
    image: { image },
    command: ["sleep", "100000"],
    logPath: "app/0.log",
    linux: { resources: { memoryLimitInBytes: BigInt(64 << 20), cpuShares: 256n }, securityContext: { namespaceOptions: { pid: 1 } } },
  });
  return startPodWithContainer(d, podReq, config);
}

export async function stopRemovePod(d: Daemon, id: string): Promise<number> {
  const c = d.client;
  const t0 = performance.now();
  await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: id }, 60_000);
  await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: id }, 60_000);
  return performance.now() - t0;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

async function memAvailableKiB(): Promise<number> {
  const m = /MemAvailable:\s+(\d+) kB/.exec(await readFile("/proc/meminfo", "utf8"));
  return Number(m?.[1] ?? NaN);
}

/** Durations the daemon logs per call at debug ("call", rpc, ms). */
function callTimes(logs: string, rpc: string): number[] {
  const out: number[] = [];
  for (const line of logs.split("\n")) {
    if (!line.includes(`"rpc":"${rpc}"`) || !line.includes(`"msg":"call"`)) continue;
    out.push((JSON.parse(line) as { ms: number }).ms);
  }
  return out;
}

function stepMedians(logs: string, msg: string): Record<string, number> {
  const samples: Record<string, number[]> = {};
  for (const line of logs.split("\n")) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    const ms = (JSON.parse(line) as { ms?: Record<string, number> }).ms ?? {};
    for (const [k, v] of Object.entries(ms)) (samples[k] ??= []).push(v);
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v).p50]));
}

async function kib(pid: number, file: string, field: string): Promise<number> {
  const text = await readFile(`/proc/${pid}/${file}`, "utf8").catch(() => "");
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN);
}

/** Average RSS and PSS (shared pages divided among sharers) of the pods' conmon processes. */
async function conmonMemory(d: Daemon, pods: string[]): Promise<{ rss: number; pss: number }> {
  const c = d.client;
  const ctrs = (await call(c, c.runtime, c.runtime.listContainers, ListContainersRequest.fromPartial({}))).containers.filter((x) => pods.includes(x.podSandboxId));
  let rss = 0;
  let pss = 0;
  for (const x of ctrs) {
    const info = JSON.parse((await call(c, c.runtime, c.runtime.containerStatus, { containerId: x.id, verbose: true })).info["info"]!) as { runtime: { conmonPid: number } };
    rss += await kib(info.runtime.conmonPid, "status", "VmRSS");
    pss += await kib(info.runtime.conmonPid, "smaps_rollup", "Pss");
  }
  return { rss: rss / ctrs.length / 1024, pss: pss / ctrs.length / 1024 };
}

function runcRun(runcRoot: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // All stdio ignored: runc create hands its stdio to the container, so a pipe would stay open.
    const p = spawn("runc", [`--root=${runcRoot}`, ...args], { stdio: "ignore" });
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`runc ${args.join(" ")} exited ${code}`))));
  });
}

/**
 * The floor: what any runtime must do for a pod with one container, each step alone and without a
 * daemon — pin netns/ipc/uts, CNI ADD (same conflist), overlay mount, runc create+start of a bundle
 * with Berth's own config.json. Rounds are interleaved with the daemon's runs, so both see the
 * same machine; the floor is the sum of the step medians.
 */
class Floor {
  readonly steps: Record<string, number[]> = { pin: [], cni_add: [], overlay: [], runc_create_start: [] };
  private readonly runcRoot: string;
  private readonly net: CniNetwork;
  private n = 0;

  private constructor(
    private readonly work: string,
    d: Daemon,
    private readonly spec: Record<string, unknown>,
    private readonly lowers: string[],
    private readonly layersDir: string,
    private readonly cgroupParent: string,
  ) {
    this.runcRoot = join(work, "runc");
    this.net = new CniNetwork({ confDirs: [join(d.dir, "net.d")], binDirs: ["/usr/lib/cni"], cacheDir: join(work, "cni-cache") });
  }

  static async open(d: Daemon, spec: Record<string, unknown>, lowers: string[], layersDir: string, cgroupParent: string): Promise<Floor> {
    return new Floor(await mkdtemp(join(tmpdir(), "berth-floor-")), d, spec, lowers, layersDir, cgroupParent);
  }

  async round(): Promise<void> {
    const id = `floor${this.n++}${Math.random().toString(16).slice(2, 10)}`;
    const bundle = join(this.work, id);
    const rootfs = join(bundle, "rootfs");
    await mkdir(rootfs, { recursive: true });
    await mkdir(join(bundle, "upper"), { recursive: true });
    await mkdir(join(bundle, "work"), { recursive: true });
    const ref = { id, name: id, namespace: "bench", uid: id };
    const [pinMs, pins] = await timed(() => pinNamespaces(join(this.work, "ns"), id, { net: true, ipc: true, uts: true }, { hostname: "floor" }));
    this.steps["pin"]!.push(pinMs);
    const [addMs] = await timed(() => this.net.setUp({ ...ref, netns: pins.net!, ports: [], annotations: {} }));
    this.steps["cni_add"]!.push(addMs);
    const [mountMs] = await timed(() => mountOverlay({ layersDir: this.layersDir, lowers: this.lowers, upper: join(bundle, "upper"), work: join(bundle, "work"), target: rootfs }));
    this.steps["overlay"]!.push(mountMs);
    const s = structuredClone(this.spec) as { root: { path: string }; linux: { cgroupsPath: string; namespaces: Array<{ type: string; path?: string }> } };
    s.root.path = rootfs;
    s.linux.cgroupsPath = `${this.cgroupParent}/floor/${id}`;
    for (const n of s.linux.namespaces) {
      if (n.type === "network") n.path = pins.net!;
      if (n.type === "ipc") n.path = pins.ipc!;
      if (n.type === "uts") n.path = pins.uts!;
    }
    await writeFile(join(bundle, "config.json"), JSON.stringify(s));
    const [runcMs] = await timed(async () => {
      await runcRun(this.runcRoot, ["create", "--bundle", bundle, id]);
      await runcRun(this.runcRoot, ["start", id]);
    });
    this.steps["runc_create_start"]!.push(runcMs);
    await runcRun(this.runcRoot, ["delete", "--force", id]);
    await unmountOverlay(rootfs);
    await this.net.tearDown({ ...ref, netns: pins.net! });
    await unpinNamespaces(pins);
  }

  report(emit: Emit): number {
    let total = 0;
    for (const [k, v] of Object.entries(this.steps)) {
      const p50 = summary(v).p50;
      total += p50;
      emit(`containers_floor_${k}_p50`, p50, "ms");
    }
    emit("containers_floor_total_p50", total, "ms");
    return total;
  }

  async close(): Promise<void> {
    await rm(this.work, { recursive: true, force: true });
    for (const h of await readdir("/sys/fs/cgroup")) await rmdir(join("/sys/fs/cgroup", h, this.cgroupParent, "floor")).catch(() => undefined);
  }
}

function pctl(name: string, emit: Emit, xs: number[], which: Array<"p50" | "p90" | "p99" | "max">): void {
  const s = summary(xs);
  for (const w of which) emit(`${name}_${w}`, s[w], "ms");
}

/** One unary call whose answer is not decoded: the daemon's and the transport's share only. */
function rawCall(d: Daemon, path: string, req: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    d.client.runtime.makeUnaryRequest(path, (x: Buffer) => x, (b: Buffer) => b, req, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) =>
      err || !res ? reject(err ?? new Error("no answer")) : resolve(res),
    );
  });
}

async function timeCalls(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await timed(fn))[0]);
  return out;
}

export async function containersBench(emit: Emit): Promise<void> {
  const host = await openBenchHost("c", {
    subnet: "10.247.0.0/16",
    portmap: true,
    // The fixture runs the daemon at debug level: per-step timings come from those lines.
    ...(process.env["BENCH_LOG_LEVEL"] ? { daemon: { args: ["--log-level", process.env["BENCH_LOG_LEVEL"]] } } : {}),
  });
  const { d, image, cgroupParent } = host;
  const c = d.client;
  const logRoot = join(d.dir, "logs");
  const pods: string[] = [];
  let floorRef: Floor | undefined;
  try {
    const spec = { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" };
    await call(c, c.image, c.image.pullImage, { image: spec, auth: undefined, sandboxConfig: undefined }, 60_000);
    // Warm-up: the bridge is made, binaries and daemon code paths are paged in.
    for (let i = 0; i < 3; i++) await stopRemovePod(d, (await runToStarted(d, image, logRoot, `warm-${i}`)).pod);
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = await rssMiB(d.proc.pid!);
    emit("containers_daemon_rss_idle", idleRss, "MiB");
    const memBefore = await memAvailableKiB();
    const logMark = d.logs().length;

    const seq: number[] = [];
    let fl: Floor | undefined;
    for (let i = 0; i < SEQUENTIAL; i++) {
      const s = await runToStarted(d, image, logRoot, `seq-${i}`);
      seq.push(s.ms);
      pods.push(s.pod);
      if (!fl) {
        // The floor runs the config.json Berth wrote for this very container.
        const info = JSON.parse((await call(c, c.runtime, c.runtime.containerStatus, { containerId: s.ctr, verbose: true })).info["info"]!) as { runtimeSpec: Record<string, unknown> };
        const img = await call(c, c.image, c.image.imageStatus, { image: spec, verbose: true });
        const lowers = (JSON.parse(img.info["info"]!) as { lowerDirs: string[] }).lowerDirs;
        fl = await Floor.open(d, info.runtimeSpec, lowers, join(d.root, "layers"), cgroupParent);
        floorRef = fl;
      }
      if (i % 3 === 0) await fl.round();
    }
    const seqLogs = d.logs().slice(logMark);
    await new Promise((r) => setTimeout(r, 1000));
    const memAfter = await memAvailableKiB();
    emit("containers_host_mem_per_running_pod", (memBefore - memAfter) / 1024 / SEQUENTIAL, "MiB");
    const rss30 = await rssMiB(d.proc.pid!);
    emit("containers_daemon_rss_at_30_pods", rss30, "MiB");
    const conmon = await conmonMemory(d, pods.slice(-SEQUENTIAL));
    emit("containers_conmon_rss_avg", conmon.rss, "MiB");
    emit("containers_conmon_pss_avg", conmon.pss, "MiB");
    // What the issue counts per pod: the daemon's growth shared out, plus one conmon (proportional set).
    emit("containers_daemon_share_plus_conmon_per_pod", (rss30 - idleRss) / SEQUENTIAL + conmon.pss, "MiB");
    pctl("containers_run_to_started_seq", emit, seq, ["p50", "p90", "max"]);
    for (const [k, v] of Object.entries(stepMedians(seqLogs, "container created"))) emit(`containers_create_step_${k}_p50`, v, "ms");
    for (const rpc of ["RunPodSandbox", "CreateContainer", "StartContainer"]) emit(`containers_seq_${rpc}_in_daemon_p50`, summary(callTimes(seqLogs, rpc)).p50, "ms");

    const t0 = performance.now();
    const together = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => runToStarted(d, image, logRoot, `par-${i}`)));
    emit("containers_run_to_started_10_at_once_all", performance.now() - t0, "ms");
    pctl("containers_run_to_started_10_at_once", emit, together.map((s) => s.ms), ["p50", "max"]);
    pods.push(...together.map((s) => s.pod));

    const floorMs = fl!.report(emit);
    emit("containers_run_to_started_seq_p50_over_floor", summary(seq).p50 - floorMs, "ms");

    while (pods.length < RUNNING) {
      const batch = await Promise.all(Array.from({ length: Math.min(PARALLEL, RUNNING - pods.length) }, (_, i) => runToStarted(d, image, logRoot, `fill-${pods.length + i}`)));
      pods.push(...batch.map((s) => s.pod));
    }
    const ctrs = (await call(c, c.runtime, c.runtime.listContainers, ListContainersRequest.fromPartial({}))).containers;
    if (ctrs.length !== RUNNING) throw new Error(`expected ${RUNNING} containers, found ${ctrs.length}`);
    const listMark = d.logs().length;
    pctl("containers_list_containers_at_100", emit, await timeCalls(500, () => call(c, c.runtime, c.runtime.listContainers, ListContainersRequest.fromPartial({}))), ["p50", "p99"]);
    // Inside the daemon: request decoded to answer built (what the handler itself costs).
    pctl("containers_list_containers_at_100_in_daemon", emit, callTimes(d.logs().slice(listMark), "ListContainers"), ["p50", "p99"]);
    pctl("containers_list_podsandbox_at_100", emit, await timeCalls(500, () => call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))), ["p50", "p99"]);
    let k = 0;
    pctl("containers_container_status_at_100", emit, await timeCalls(500, () => call(c, c.runtime, c.runtime.containerStatus, { containerId: ctrs[k++ % ctrs.length]!.id, verbose: false })), ["p50", "p99"]);
    // The same calls with the answer left undecoded: a Go client (kubelet) decodes 50 KB in ~0.1 ms,
    // ts-proto in the bench process several times that, with its garbage collections on top.
    const empty = Buffer.alloc(0);
    pctl("containers_list_containers_at_100_undecoded", emit, await timeCalls(500, () => rawCall(d, "/runtime.v1.RuntimeService/ListContainers", empty)), ["p50", "p99"]);
    pctl("containers_list_podsandbox_at_100_undecoded", emit, await timeCalls(500, () => rawCall(d, "/runtime.v1.RuntimeService/ListPodSandbox", empty)), ["p50", "p99"]);
    pctl("containers_container_status_at_100_undecoded", emit, await timeCalls(500, () => rawCall(d, "/runtime.v1.RuntimeService/ContainerStatus", Buffer.from(ContainerStatusRequest.encode({ containerId: ctrs[k++ % ctrs.length]!.id, verbose: false }).finish()))), ["p50", "p99"]);
    pctl("containers_list_container_stats_at_100", emit, await timeCalls(20, () => call(c, c.runtime, c.runtime.listContainerStats, { filter: undefined })), ["p50", "p99"]);
    pctl("containers_exec_sync_true", emit, await timeCalls(40, () => call(c, c.runtime, c.runtime.execSync, { containerId: ctrs[0]!.id, cmd: ["true"], timeout: 10n })), ["p50", "p90"]);

    const removes: number[] = [];
    const mark = d.logs().length;
    for (const p of pods.splice(0, SEQUENTIAL)) removes.push(await stopRemovePod(d, p));
    pctl("containers_stop_remove_pod_with_one_container", emit, removes, ["p50", "p90"]);
    const rmLogs = d.logs().slice(mark);
    for (const [msg, key] of [["pod sandbox stopped", "stop"], ["pod sandbox released", "remove"], ["container released", "container_release"]] as const) {
      for (const [k, v] of Object.entries(stepMedians(rmLogs, msg))) emit(`containers_${key}_step_${k.replace(/\W/g, "_")}_p50`, v, "ms");
    }
  } finally {
    await floorRef?.close();
    await Promise.allSettled(pods.map((p) => stopRemovePod(d, p)));
    await host.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const emit: Emit = (name, value, unit) => process.stdout.write(`${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}\n`);
  await containersBench(emit);
}
