// Side by side in one run: the bare OS floor of a pod start, Berth, and containerd's CRI plugin
// (only when a `containerd` binary is installed), each runtime through one grpc-js CRI client.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { call, type CriClient } from "../src/cli/client.js";
import { ContainerConfig, NamespaceMode, type RunPodSandboxRequest } from "../src/generated/runtime/v1/api.js";
import { startDaemon, type Daemon } from "../test/fixtures/daemon.js";
import { pushBusybox, pushImage } from "../test/fixtures/images.js";
import { busyboxLayer } from "../test/fixtures/layers.js";
import { startRegistry, writeHostsToml } from "../test/fixtures/registry.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import { containerdBinary, startContainerd, type Containerd } from "./containerd.js";
import { Floor, floorCreate, floorRunPod, floorStart, floorTotal, type FloorRound } from "./floor.js";
import { removePodVia, startPodTimed, writeBridgeConflist, writeBridgeNetwork, type PodStartTimes } from "./kit.js";
import { measureLatency } from "./latency.js";
import { rssSplitMiB, summary } from "./stats.js";
import type { Emit } from "./emit.js";

const run = promisify(execFile);
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";
/** Sequential rounds (each: floor, Berth, containerd); BENCH_COMPARE_ROUNDS for a longer run. */
const ROUNDS = Number(process.env["BENCH_COMPARE_ROUNDS"] ?? 20);
const WARM = 3;
const PARALLEL = 10;
/** Repeats of the 10-at-once figure (the median is reported). */
const PARALLEL_REPS = Number(process.env["BENCH_COMPARE_PARALLEL_REPS"] ?? 3);

/** One figure of one runtime ("berth", "containerd") or of the floor. */
export interface Row {
  name: string;
  value: number;
  unit: string;
}

/** What a row group may use besides the client: the pulled busybox reference, where pod logs go and the runtime's pid. */
export interface GroupEnv {
  image: string;
  logRoot: string;
  pid: number;
}

/**
 * A group of rows measured against one runtime through its connected client (label: "berth" or
 * "containerd"), run after the pod start rows. Rows with the same name get a berth/containerd ratio.
 */
export type RowGroup = (client: CriClient, label: string, env: GroupEnv) => Promise<Row[]>;

/** The runtime process's resident memory (not its shims'), split into anonymous and file-backed pages. */
async function memoryRows(pid: number, tag: string): Promise<Row[]> {
  const m = await rssSplitMiB(pid);
  return [
    { name: `rss_${tag}`, value: m.rss, unit: "MiB" },
    { name: `rss_${tag}_anon`, value: m.anon, unit: "MiB" },
    { name: `rss_${tag}_file`, value: m.file, unit: "MiB" },
  ];
}

/** After the pod start rows (pulls done, every pod removed), 2 s settled. */
const idleMemoryGroup: RowGroup = async (_client, _label, env) => {
  await new Promise((r) => setTimeout(r, 2000));
  return memoryRows(env.pid, "idle_after_work");
};

/** List/Status/stats/ExecSync p50 and p99 (bench/latency.ts) against each runtime, and its memory with the pods up; BENCH_COMPARE_LATENCY=0 leaves them out. */
const latencyGroup: RowGroup = async (client, label, env) => {
  const memory: Row[] = [];
  const onPodsUp = async (count: number) => {
    memory.push(...(await memoryRows(env.pid, `${count}pods`)));
  };
  const rows = await measureLatency(client, () => undefined, label, { image: env.image, logRoot: env.logRoot, onPodsUp });
  return [
    ...memory,
    ...rows.flatMap((r) => [
      { name: `${r.name}_p50`, value: r.p50, unit: "ms" },
      { name: `${r.name}_p99`, value: r.p99, unit: "ms" },
    ]),
  ];
};

/** Further row groups, each run against every runtime in turn, after the pod start rows. */
const GROUPS: RowGroup[] = [idleMemoryGroup, ...(process.env["BENCH_COMPARE_LATENCY"] === "0" ? [] : [latencyGroup])];

/** A runtime under test: its client and the pod shape it is asked for. */
interface Target {
  label: string;
  client: CriClient;
  image: string;
  logRoot: string;
  /** linux.cgroup_parent of its pods (containerd has no default of its own; Berth uses pods.cgroup_parent). */
  cgroupParent?: string;
  pid: number;
  times: PodStartTimes[];
  together: number[];
}

let seq = 0;

/** kubelet's shape: own network, IPC and UTS, PID per container, cluster DNS, a log dir; one sleeping container. */
async function podStart(t: Target, prefix: string): Promise<PodStartTimes> {
  const name = `${prefix}-${seq++}`;
  const logDirectory = join(t.logRoot, name);
  await mkdir(logDirectory, { recursive: true }); // kubelet makes it before RunPodSandbox
  const req: RunPodSandboxRequest = podRequest({
    name,
    config: { logDirectory, dnsConfig: { servers: ["10.96.0.10"], searches: ["default.svc.cluster.local"], options: ["ndots:5"] } },
  });
  if (t.cgroupParent) req.config!.linux!.cgroupParent = t.cgroupParent;
  const config = ContainerConfig.fromPartial({
    metadata: { name: "app", attempt: 0 },
    image: { image: t.image },
    command: ["sleep", "100000"],
    logPath: "app/0.log",
    linux: { resources: { memoryLimitInBytes: BigInt(64 << 20), cpuShares: 256n }, securityContext: { namespaceOptions: { pid: NamespaceMode.CONTAINER } } },
  });
  return startPodTimed(t.client, req, config);
}

async function targetRound(t: Target, record: boolean): Promise<void> {
  const s = await podStart(t, "seq");
  if (record) t.times.push(s);
  await removePodVia(t.client, s.pod);
}

/** 10 pods at once, each with a started container: ms until the last one started. */
async function targetTogether(t: Target): Promise<void> {
  const t0 = performance.now();
  const all = await Promise.allSettled(Array.from({ length: PARALLEL }, () => podStart(t, "par")));
  const ok = all.filter((r): r is PromiseFulfilledResult<PodStartTimes> => r.status === "fulfilled").map((r) => r.value);
  await Promise.allSettled(ok.map((s) => removePodVia(t.client, s.pod)));
  const failed = all.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw new Error(`${t.label}: 10 pods at once: ${(failed.reason as Error).message}`);
  t.together.push(Math.max(...ok.map((s) => s.startedAt)) - t0);
}

async function floorTogether(floor: Floor, out: number[]): Promise<void> {
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  const t0 = performance.now();
  const started: number[] = [];
  let allStarted!: () => void;
  const all = new Promise<void>((r) => (allStarted = r));
  // Held until all started, so no round's teardown runs among the others' starts.
  const rounds = Array.from({ length: PARALLEL }, () => floor.round(hold, (at) => {
    started.push(at);
    if (started.length === PARALLEL) allStarted();
  }));
  // A failed round releases the others (its own error is thrown below).
  await Promise.race([all, ...rounds.map((r) => r.then(() => undefined))]).catch(() => undefined);
  release();
  await Promise.all(rounds);
  out.push(Math.max(...started) - t0);
}

function startRows(times: PodStartTimes[], together: number[]): Row[] {
  const total = summary(times.map((s) => s.total));
  return [
    { name: "run_to_started_p50", value: total.p50, unit: "ms" },
    { name: "run_to_started_p90", value: total.p90, unit: "ms" },
    { name: "runpodsandbox_p50", value: summary(times.map((s) => s.run)).p50, unit: "ms" },
    { name: "createcontainer_p50", value: summary(times.map((s) => s.create)).p50, unit: "ms" },
    { name: "startcontainer_p50", value: summary(times.map((s) => s.start)).p50, unit: "ms" },
    { name: "10_pods_at_once_all_started", value: summary(together).p50, unit: "ms" },
  ];
}

function floorRows(rounds: FloorRound[], together: number[]): Row[] {
  const p50 = (f: (r: FloorRound) => number) => summary(rounds.map(f)).p50;
  const total = summary(rounds.map(floorTotal));
  return [
    { name: "run_to_started_p50", value: total.p50, unit: "ms" },
    { name: "run_to_started_p90", value: total.p90, unit: "ms" },
    { name: "runpodsandbox_p50", value: p50(floorRunPod), unit: "ms" },
    { name: "createcontainer_p50", value: p50(floorCreate), unit: "ms" },
    { name: "startcontainer_p50", value: p50(floorStart), unit: "ms" },
    { name: "10_pods_at_once_all_started", value: summary(together).p50, unit: "ms" },
    ...(["pin", "cni_add", "overlay", "runc_create", "runc_start"] as const).map((k) => ({ name: `step_${k}_p50`, value: p50((r) => r[k]), unit: "ms" })),
  ];
}

function emitAll(emit: Emit, byLabel: Map<string, Row[]>): void {
  for (const [label, rows] of byLabel) for (const r of rows) emit(`compare_${label}_${r.name}`, r.value, r.unit);
  const berth = byLabel.get("berth") ?? [];
  for (const other of ["floor", "containerd"]) {
    const rows = new Map((byLabel.get(other) ?? []).map((r) => [r.name, r]));
    for (const b of berth) {
      const o = rows.get(b.name);
      if (!o || !(o.value > 0)) continue;
      emit(`compare_${b.name}_berth_over_${other}`, b.value / o.value, "x");
      if (other === "floor" && b.unit === "ms") emit(`compare_${b.name}_berth_minus_floor`, b.value - o.value, "ms");
    }
  }
}

async function loadavg(): Promise<number> {
  return Number((await readFile("/proc/loadavg", "utf8")).split(" ")[0]);
}

async function removeCgroupTree(path: string): Promise<void> {
  for (const h of await readdir("/sys/fs/cgroup")) {
    const top = join("/sys/fs/cgroup", h, path);
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await walk(join(dir, e.name));
      await rmdir(dir).catch(() => undefined);
    };
    await walk(top);
  }
}

export async function compareBench(emit: Emit): Promise<void> {
  const id = Math.random().toString(16).slice(2, 8);
  const cgroupParent = `/berth-bench-cmp-${id}`;
  const cdParent = `/berth-bench-cmpcd-${id}`;
  const ipForward = (await readFile(IP_FORWARD, "utf8")).trim();
  const bridges = [`bk${id}`, `bkc${id}`];
  emit("compare_loadavg_1m_before", await loadavg(), "load");
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-cmp-certsd-"));
  await writeHostsToml(certsD, reg);
  const cdCertsD = await mkdtemp(join(tmpdir(), "berth-bench-cmpcd-certsd-"));
  const image = (await pushBusybox(reg)).reference;
  // containerd runs a sandbox image per pod; busybox sleeping stands in for pause (no real registry is reached).
  const pause = (await pushImage(reg, { repo: "pause", tag: "bench", layers: [busyboxLayer()], config: { Entrypoint: ["sleep", "2147483647"] } })).reference;
  let d: Daemon | undefined;
  let cd: Containerd | undefined;
  let floor: Floor | undefined;
  let probePod = "";
  try {
    d = await startDaemon({
      toml: `[pods]\ncgroup_parent = "${cgroupParent}"\n[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "registries.conf")}"\n`,
      args: ["--log-level", process.env["BENCH_LOG_LEVEL"] ?? "info"],
    });
    await writeBridgeNetwork(d, { name: `berth-bench-cmp-${id}`, bridge: bridges[0]!, subnet: "10.246.0.0/16", portmap: true });
    const berth: Target = { label: "berth", client: d.client, image, logRoot: join(d.dir, "logs"), pid: d.proc.pid!, times: [], together: [] };
    const targets: Target[] = [berth];
    const bin = containerdBinary();
    if (!bin) {
      process.stdout.write("compare: containerd not found on PATH: its rows are left out (the bench installs nothing)\n");
    } else {
      // containerd 1.6 reads a hosts.toml only with a [host] table (else it warns and falls back to its defaults).
      await writeHostsToml(cdCertsD, reg, `[host."${reg.url}"]\n  capabilities = ["pull", "resolve"]\n`);
      cd = await startContainerd(bin, { certsD: cdCertsD, sandboxImage: pause });
      await writeBridgeConflist(cd.confDir, join(cd.dir, "ipam"), { name: `berth-bench-cmpcd-${id}`, bridge: bridges[1]!, subnet: "10.245.0.0/16", portmap: true });
      targets.push({ label: "containerd", client: cd.client, image, logRoot: join(cd.dir, "logs"), cgroupParent: cdParent, pid: cd.pid, times: [], together: [] });
    }
    for (const t of targets) {
      for (const ref of [image, ...(t.label === "containerd" ? [pause] : [])]) {
        await call(t.client, t.client.image, t.client.image.pullImage, { image: { image: ref, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined }, 120_000);
      }
      for (let i = 0; i < WARM; i++) await targetRound(t, false);
    }

    // The floor runs the config.json Berth wrote for this very shape of container, on the same layers and conflist.
    const probe = await podStart(berth, "probe");
    const c = d.client;
    const info = JSON.parse((await call(c, c.runtime, c.runtime.containerStatus, { containerId: probe.ctr, verbose: true })).info["info"]!) as { runtimeSpec: Record<string, unknown> };
    const img = await call(c, c.image, c.image.imageStatus, { image: { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, verbose: true });
    const lowers = (JSON.parse(img.info["info"]!) as { lowerDirs: string[] }).lowerDirs;
    // Kept until the end: the spec's bind mounts (resolv.conf, hosts, hostname) are its pod's files.
    probePod = probe.pod;
    floor = await Floor.open({ confDir: join(d.dir, "net.d"), spec: info.runtimeSpec, lowers, layersDir: join(d.root, "layers"), cgroupParent });
    for (let i = 0; i < WARM; i++) await floor.round();

    // Interleaved, so every side sees the same minutes of this shared machine.
    const floorRounds: FloorRound[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      floorRounds.push(await floor.round());
      for (const t of targets) await targetRound(t, true);
    }
    const floorTogetherMs: number[] = [];
    for (let i = 0; i < PARALLEL_REPS; i++) {
      await floorTogether(floor, floorTogetherMs);
      for (const t of targets) await targetTogether(t);
    }

    const byLabel = new Map<string, Row[]>([["floor", floorRows(floorRounds, floorTogetherMs)]]);
    for (const t of targets) byLabel.set(t.label, startRows(t.times, t.together));
    for (const group of GROUPS) for (const t of targets) byLabel.get(t.label)!.push(...(await group(t.client, t.label, { image, logRoot: t.logRoot, pid: t.pid })));
    emitAll(emit, byLabel);
    emit("compare_loadavg_1m_after", await loadavg(), "load");
  } finally {
    await floor?.close();
    if (probePod && d) await removePodVia(d.client, probePod).catch(() => undefined);
    await cd?.stop();
    await d?.stop();
    await reg.stop();
    await rm(certsD, { recursive: true, force: true });
    await rm(cdCertsD, { recursive: true, force: true });
    for (const b of bridges) await run("ip", ["link", "del", b]).catch(() => undefined);
    await removeCgroupTree(cdParent);
    await removeCgroupTree(cgroupParent);
    await writeFile(IP_FORWARD, ipForward);
  }
}
