// What goes in and out of a running container: volume mounts (read-only, host-to-container
// propagation), CRI log lines and rotation, ExecSync limits, resource updates, and stats.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { ContainerState, MountPropagation } from "../../src/generated/runtime/v1/api.js";
import { removePod } from "./pods-kit.js";
import {
  createCtr, ctrConfig, ctrEnv, ctrStatus, exec, logLines, logText, runCtr, runPodWithLogs, sharedRegistry, startCtr, waitLog, waitState,
  type Registry,
} from "./containers-kit.js";

const run = promisify(execFile);
const code = (c: number, re?: RegExp) => (e: ServiceError) => e.code === c && (!re || re.test(e.details));

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

const mount = (containerPath: string, hostPath: string, o: { readonly?: boolean; propagation?: MountPropagation } = {}) => ({
  containerPath, hostPath, readonly: o.readonly ?? false, selinuxRelabel: false, propagation: o.propagation ?? MountPropagation.PROPAGATION_PRIVATE,
  uidMappings: [], gidMappings: [], recursiveReadOnly: false, image: undefined, imageSubPath: "",
});

test("volume mounts: read-write, read-only, and host-to-container propagation of a later mount", async (t) => {
  const env = await ctrEnv(t, r);
  const host = await mkdtemp(join(tmpdir(), "berth-vol-"));
  const shared = join(host, "shared");
  await mkdir(shared);
  await writeFile(join(host, "in.txt"), "from host\n");
  t.after(async () => {
    await run("umount", ["-R", shared]).catch(() => undefined);
    await rm(host, { recursive: true, force: true });
  });
  // A shared mount on the host: what HostToContainer needs to see mounts made later.
  await run("mount", ["--bind", shared, shared]);
  await run("mount", ["--make-shared", shared]);

  const { id, podId } = await runCtr(env, {
    command: ["sh", "-c", "cat /rw/in.txt; echo out > /rw/out.txt; echo no > /ro/x 2>&1 || echo ro-refused; echo ready; while [ ! -f /prop/sub/marker ]; do sleep 0.05; done; cat /prop/sub/marker; sleep 1000"],
    mounts: [mount("/rw", host), mount("/ro", host, { readonly: true }), mount("/prop", shared, { propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER })],
  });
  const logPath = (await ctrStatus(env.d, id)).status!.logPath;
  await waitLog(logPath, /ready/);
  await mkdir(join(shared, "sub"));
  await run("mount", ["-t", "tmpfs", "tmpfs", join(shared, "sub")]);
  await writeFile(join(shared, "sub", "marker"), "propagated\n");
  const text = await waitLog(logPath, /propagated/);
  assert.match(text, /^from host$/m);
  assert.match(text, /ro-refused|Read-only file system/);
  assert.equal(await readFile(join(host, "out.txt"), "utf8"), "out\n");
  const s = await ctrStatus(env.d, id);
  assert.deepEqual(s.status!.mounts.map((m) => [m.containerPath, m.readonly, m.propagation]), [
    ["/rw", false, MountPropagation.PROPAGATION_PRIVATE], ["/ro", true, MountPropagation.PROPAGATION_PRIVATE], ["/prop", false, MountPropagation.PROPAGATION_HOST_TO_CONTAINER],
  ]);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("logs: P and F lines per stream; rotation through ReopenContainerLog loses no line", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const podId = await runPodWithLogs(env);
  const a = await createCtr(env, podId, ctrConfig(env, { command: ["sh", "-c", "printf abc; sleep 0.3; printf 'def\\n'; echo err >&2"] }));
  await startCtr(d, a);
  const sa = await waitState(d, a, ContainerState.CONTAINER_EXITED);
  const lines = await logLines(sa.status!.logPath);
  assert.deepEqual(lines, [["stdout", "P", "abc"], ["stdout", "F", "def"], ["stderr", "F", "err"]]);
  const ts = (await readFile(sa.status!.logPath, "utf8")).split(" ")[0]!;
  assert.ok(!Number.isNaN(Date.parse(ts)), `RFC 3339 timestamp: ${ts}`);

  const N = 300;
  const b = await createCtr(env, podId, ctrConfig(env, { command: ["sh", "-c", `i=0; while [ $i -lt ${N} ]; do echo line-$i; i=$((i+1)); sleep 0.005; done`] }));
  await startCtr(d, b);
  const log = (await ctrStatus(d, b)).status!.logPath;
  await waitLog(log, /line-40\n/);
  await rename(log, `${log}.20260101-000000`);
  const c = d.client;
  await call(c, c.runtime, c.runtime.reopenContainerLog, { containerId: b });
  await waitState(d, b, ContainerState.CONTAINER_EXITED);
  const old = (await logLines(`${log}.20260101-000000`)).map((l) => l[2]);
  const fresh = (await logLines(log)).map((l) => l[2]);
  assert.ok(old.length > 0 && fresh.length > 0, `old ${old.length}, new ${fresh.length}`);
  assert.deepEqual([...old, ...fresh], Array.from({ length: N }, (_, i) => `line-${i}`));
  for (const f of [log, `${log}.20260101-000000`]) assert.equal((await stat(f)).mode & 0o777, 0o640, `${f} is 0640, as containerd makes CRI logs`);
  await assert.rejects(call(c, c.runtime, c.runtime.reopenContainerLog, { containerId: b }), code(grpc.FAILED_PRECONDITION, /not running/));
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("ExecSync: output and exit code, a timeout kills the command tree, output capped at 16 MiB", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const { id, podId } = await runCtr(env, { command: ["sleep", "1000"] });
  await waitState(d, id, ContainerState.CONTAINER_RUNNING);
  const e = await exec(d, id, ["sh", "-c", "echo $((6*7)); exit 9"]);
  assert.deepEqual([e.stdout.toString(), e.exitCode], ["42\n", 9]);
  const t0 = Date.now();
  await assert.rejects(exec(d, id, ["sh", "-c", "sleep 31 & sleep 32"], 1n), code(grpc.DEADLINE_EXCEEDED, /timed out/));
  assert.ok(Date.now() - t0 < 5000, "the timeout answers promptly");
  const ps = await exec(d, id, ["ps"]);
  assert.doesNotMatch(ps.stdout.toString(), /sleep 3[12]/, "the exec's processes were killed");
  const big = await exec(d, id, ["sh", "-c", "head -c 20000000 /dev/zero; echo done >&2"], 30n);
  assert.equal(big.stdout.length, 16 * 1024 * 1024);
  assert.equal(big.stderr.toString(), "done\n");
  assert.equal(big.exitCode, 0);
  await assert.rejects(exec(d, id, []), code(grpc.INVALID_ARGUMENT));
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("UpdateContainerResources changes the cgroup, all or nothing; UpdatePodSandboxResources is accepted", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const { id, podId } = await runCtr(env, { command: ["sleep", "1000"], linux: { resources: { memoryLimitInBytes: BigInt(64 << 20), cpuShares: 512n } } as never });
  await waitState(d, id, ContainerState.CONTAINER_RUNNING);
  const path = (JSON.parse((await ctrStatus(d, id, true)).info["info"]!) as { cgroupsPath: string }).cgroupsPath;
  const mem = () => readFile(join("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes"), "utf8").then((s) => Number(s.trim()));
  const shares = () => readFile(join("/sys/fs/cgroup/cpu", path, "cpu.shares"), "utf8").then((s) => Number(s.trim()));
  assert.equal(await mem(), 64 << 20);
  const c = d.client;
  const update = (linux: object) => call(c, c.runtime, c.runtime.updateContainerResources, { containerId: id, linux: { cpuPeriod: 0n, cpuQuota: 0n, cpuShares: 0n, memoryLimitInBytes: 0n, oomScoreAdj: 0n, cpusetCpus: "", cpusetMems: "", hugepageLimits: [], unified: {}, memorySwapLimitInBytes: 0n, ...linux }, windows: undefined, annotations: {} });
  await update({ memoryLimitInBytes: BigInt(128 << 20), cpuQuota: 50000n, cpuPeriod: 100000n });
  assert.equal(await mem(), 128 << 20);
  assert.equal(await shares(), 512, "a zero field keeps its value");
  assert.equal(Number((await readFile(join("/sys/fs/cgroup/cpu", path, "cpu.cfs_quota_us"), "utf8")).trim()), 50000);
  let s = await ctrStatus(d, id);
  assert.equal(s.status!.resources!.linux!.memoryLimitInBytes, BigInt(128 << 20));
  assert.equal(s.status!.resources!.linux!.cpuQuota, 50000n);
  // runc writes memory before cpu, and the kernel refuses a quota under 1 ms: the memory limit
  // written before the failure must be put back.
  await assert.rejects(update({ memoryLimitInBytes: BigInt(256 << 20), cpuQuota: 500n }), code(grpc.INTERNAL, /runc update/));
  assert.equal(await mem(), 128 << 20);
  s = await ctrStatus(d, id);
  assert.equal(s.status!.resources!.linux!.memoryLimitInBytes, BigInt(128 << 20));
  await call(c, c.runtime, c.runtime.updatePodSandboxResources, { podSandboxId: podId, overhead: undefined, resources: undefined });
  await assert.rejects(call(c, c.runtime, c.runtime.updatePodSandboxResources, { podSandboxId: "f".repeat(64), overhead: undefined, resources: undefined }), code(grpc.NOT_FOUND));
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("stats: CPU (and nano-cores from two samples), memory, writable layer, pod network and processes", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const { id, podId } = await runCtr(env, {
    command: ["sh", "-c", "head -c 1048576 /dev/zero > /big; echo ready; while :; do :; done"],
    linux: { resources: { memoryLimitInBytes: BigInt(64 << 20) } } as never,
  });
  await waitLog((await ctrStatus(d, id)).status!.logPath, /ready/);
  const c = d.client;
  const first = (await call(c, c.runtime, c.runtime.containerStats, { containerId: id })).stats!;
  assert.equal(first.attributes!.id, id);
  assert.ok(first.cpu!.usageCoreNanoSeconds!.value > 0n);
  assert.ok(first.memory!.workingSetBytes!.value > 0n);
  assert.ok(first.memory!.usageBytes!.value >= first.memory!.workingSetBytes!.value);
  assert.ok(first.memory!.availableBytes!.value <= BigInt(64 << 20));
  assert.ok(first.writableLayer!.usedBytes!.value >= 1048576n, `writable layer ${first.writableLayer!.usedBytes!.value}`);
  assert.ok(first.writableLayer!.inodesUsed!.value >= 1n);
  await new Promise((res) => setTimeout(res, 1200));
  const second = (await call(c, c.runtime, c.runtime.containerStats, { containerId: id })).stats!;
  assert.ok(second.cpu!.usageCoreNanoSeconds!.value > first.cpu!.usageCoreNanoSeconds!.value);
  const cores = Number(second.cpu!.usageNanoCores!.value) / 1e9;
  // One busy thread: some share of a core, never more than one (how much depends on the host's
  // load, so only the bounds are asserted; bench/stats.ts measures the figure itself).
  assert.ok(cores > 0 && cores < 1.2, `a busy loop uses up to one core: ${cores}`);

  const list = (await call(c, c.runtime, c.runtime.listContainerStats, { filter: { id: "", podSandboxId: podId, labelSelector: {} } })).stats;
  assert.deepEqual(list.map((s) => s.attributes!.id), [id]);
  const pod = (await call(c, c.runtime, c.runtime.podSandboxStats, { podSandboxId: podId })).stats!;
  assert.equal(pod.attributes!.id, podId);
  assert.equal(pod.linux!.network!.defaultInterface!.name, "eth0");
  assert.ok(pod.linux!.network!.defaultInterface!.rxBytes !== undefined);
  assert.ok(pod.linux!.process!.processCount!.value >= 1n);
  assert.ok(pod.linux!.cpu!.usageCoreNanoSeconds!.value >= second.cpu!.usageCoreNanoSeconds!.value);
  assert.deepEqual(pod.linux!.containers.map((s) => s.attributes!.id), [id]);
  const pods = (await call(c, c.runtime, c.runtime.listPodSandboxStats, { filter: undefined })).stats;
  assert.deepEqual(pods.map((p) => p.attributes!.id), [podId]);
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
  void logText;
});
