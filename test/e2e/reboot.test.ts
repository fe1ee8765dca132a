// A host reboot as Berth sees it (processes, state dir, cgroups gone; root kept, or a new boot id): every pod
// NOTREADY, every container EXITED with a reason, no old pid trusted; Stop and Remove leave nothing.
import assert from "node:assert/strict";
import { once } from "node:events";
import { readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ContainerState, NamespaceMode, PodSandboxState } from "../../src/generated/runtime/v1/api.js";
import { findInfraProcesses } from "../../src/oci/infra-scan.js";
import { podStatus, removePod, run, stopPod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, ctrStatus, listCtrs, removeCtr, runCtr, sharedRegistry, startCtr, stopCtr, waitState, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

const infoOf = async (d: Parameters<typeof ctrStatus>[0], id: string) =>
  JSON.parse((await ctrStatus(d, id, true)).info["info"]!) as { pid: number; runtime: { conmonPid: number } };

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const s = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (!s || s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3) === "Z") return;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`pid ${pid} survived SIGKILL`);
}

async function cgroupDirsUnder(parent: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      out.push(p);
      await walk(p);
    }
  };
  for (const h of await readdir("/sys/fs/cgroup")) await walk(join("/sys/fs/cgroup", h, parent));
  return out.sort((a, b) => b.length - a.length);
}

test("after a reboot (processes gone, state dir emptied): pods NOTREADY, containers EXITED with a reason; Stop and Remove leave nothing", async (t) => {
  const env = await ctrEnv(t, r);
  const d1 = env.d;
  const state = d1.state;
  const a = await runCtr(env, { name: "a", command: ["sleep", "1000"] }, { pid: NamespaceMode.POD });
  const b = await runCtr(env, { name: "b", command: ["sleep", "1000"] });
  const done = await createCtr(env, b.podId, ctrConfig(env, { name: "done", command: ["sh", "-c", "exit 3"] }));
  await startCtr(d1, done);
  await waitState(d1, done, ContainerState.CONTAINER_EXITED);
  const created = await createCtr(env, b.podId, ctrConfig(env, { name: "created", command: ["sleep", "1000"] }));
  const procs = await Promise.all([a.id, b.id, created].map((id) => infoOf(d1, id)));
  const infras = await findInfraProcesses(join(state, "ns", "pidns"), join(state, "infra", "root"));
  assert.ok(infras.length >= 2);

  // The reboot: the daemon goes, then every process it left, every mount under state, the state
  // dir's content and the cgroups. The root dir (disk) stays.
  d1.client.close();
  d1.proc.kill("SIGTERM");
  await once(d1.proc, "exit");
  for (const p of procs) kill(p.runtime.conmonPid);
  for (const p of procs) kill(p.pid);
  for (const p of infras) kill(p.pid);
  for (const p of [...procs.flatMap((x) => [x.pid, x.runtime.conmonPid]), ...infras.map((x) => x.pid)]) await gone(p);
  const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m.startsWith(state + "/"));
  for (const m of mounts.sort((x, y) => y.length - x.length)) await run("umount", ["-l", m]);
  for (const e of await readdir(state)) await rm(join(state, e), { recursive: true, force: true });
  for (const dir of await cgroupDirsUnder(env.cgroupParent)) await rmdir(dir).catch(() => undefined);

  const d = await env.restart();
  for (const pod of [a.podId, b.podId]) {
    const s = await podStatus(d, pod);
    assert.equal(s.status!.state, PodSandboxState.SANDBOX_NOTREADY, `pod ${pod}`);
  }
  assert.match(d.logs(), /reboot detected/);
  for (const id of [a.id, b.id, created]) {
    const s = (await ctrStatus(d, id)).status!;
    assert.equal(s.state, ContainerState.CONTAINER_EXITED, `container ${id}`);
    assert.equal(s.reason, "Error");
    assert.match(s.message, /reboot/, `container ${id} says why`);
    assert.ok(s.finishedAt > 0n);
  }
  const sd = (await ctrStatus(d, done)).status!;
  assert.deepEqual([sd.state, sd.exitCode, sd.reason], [ContainerState.CONTAINER_EXITED, 3, "Error"], "an exit recorded before the reboot is kept");

  await stopCtr(d, a.id, 0n);
  await removeCtr(d, a.id);
  for (const pod of [a.podId, b.podId]) {
    await stopPod(d, pod);
    await removePod(d, pod);
  }
  assert.equal((await listCtrs(d)).length, 0);
  await env.leaks.assertNoLeaks();
});

test("after a reboot no pid of the earlier boot is trusted, even one that names a live process with the same start time", async (t) => {
  const env = await ctrEnv(t, r);
  const d1 = env.d;
  const state = d1.state;
  const a = await runCtr(env, { name: "a", command: ["sleep", "1000"] }, { pid: NamespaceMode.POD });
  const ia = await infoOf(d1, a.id);
  d1.client.close();
  d1.proc.kill("SIGTERM");
  await once(d1.proc, "exit");
  // The recorded processes still run: what a reboot that reused their pids at the same tick looks like.
  await writeFile(join(state, "boot_id"), "00000000-0000-0000-0000-000000000000\n");

  const d = await env.restart();
  assert.equal((await podStatus(d, a.podId)).status!.state, PodSandboxState.SANDBOX_NOTREADY);
  const s = (await ctrStatus(d, a.id)).status!;
  assert.equal(s.state, ContainerState.CONTAINER_EXITED);
  assert.match(s.message, /rebooted/);
  assert.equal((await infoOf(d, a.id)).pid, 0);
  assert.equal((await readFile(join(state, "boot_id"), "utf8")).trim(), (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim());

  await stopPod(d, a.podId);
  await removePod(d, a.podId);
  // What was left running (only in this simulation) ended with the removal or is ended here.
  for (const p of [ia.pid, ia.runtime.conmonPid]) kill(p);
  for (const p of [ia.pid, ia.runtime.conmonPid]) await gone(p);
  await env.leaks.assertNoLeaks();
});
