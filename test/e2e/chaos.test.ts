// The kill -9 chaos test (BERTH_CHAOS_STEPS steps, default 24): random pod, container and image calls, many cut
// by a SIGKILL of the daemon; after each restart Berth matches the host, running containers run on, nothing leaks.
import assert from "node:assert/strict";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { call } from "../../src/cli/client.js";
import { ContainerState, ListPodSandboxRequest, NamespaceMode, PodSandboxState } from "../../src/generated/runtime/v1/api.js";
import { findInfraProcesses } from "../../src/oci/infra-scan.js";
import type { Daemon } from "../fixtures/daemon.js";
import { findLeaks } from "../fixtures/leaks.js";
import { podInfo, removePod, stopPod, type PodEnv } from "./pods-kit.js";
import { list as listImages, remove as removeImage, status as imageStatus } from "./images-kit.js";
import {
  createCtr, ctrConfig, ctrEnv, ctrStatus, exec, listCtrs, pull, removeCtr, runPodWithLogs, sharedRegistry, startCtr, stopCtr, type CtrEnv, type Registry,
} from "./containers-kit.js";

const STEPS = Number(process.env["BERTH_CHAOS_STEPS"] ?? 24);
/** Share of steps whose call is cut by a SIGKILL of the daemon. */
const KILL_SHARE = 0.5;
/** Longest delay before the kill (calls here take ~10-300 ms). */
const MAX_KILL_DELAY_MS = 250;

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry({ rich: true });
});
after(async () => {
  await r.stop();
});

/** A start cleans half-made pods and containers up in the background: wait (bounded) for that, then check. */
async function assertNoLeaksOnceSettled(env: PodEnv): Promise<void> {
  for (let i = 0; i < 100 && (await findLeaks(env.leaks.scope, env.leaks.before)).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  await env.leaks.assertNoLeaks();
}

const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(Math.random() * xs.length)];

async function procState(pid: number): Promise<string | undefined> {
  const s = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return s ? s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3) : undefined;
}
const alive = async (pid: number) => pid > 0 && !["Z", "X", undefined].includes(await procState(pid));

async function killDaemon(d: Daemon): Promise<void> {
  d.client.close();
  if (d.proc.exitCode === null && d.proc.signalCode === null) {
    d.proc.kill("SIGKILL");
    await once(d.proc, "exit");
  }
}

async function pods(d: Daemon) {
  const c = d.client;
  return (await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items;
}

async function verbosePid(d: Daemon, id: string): Promise<number> {
  return (JSON.parse((await ctrStatus(d, id, true)).info["info"]!) as { pid: number }).pid;
}

/** Processes whose argv names this state dir, by kind: conmon (with its container id). */
async function conmonsOf(state: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const n of await readdir("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    const argv = (await readFile(`/proc/${n}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (!argv[0]?.endsWith("conmon") || !argv.some((a) => a.startsWith(state + "/"))) continue;
    const id = argv[argv.indexOf("-c") + 1];
    if (id && (await alive(Number(n)))) out.set(id, Number(n));
  }
  return out;
}

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile("/proc/self/mountinfo", "utf8")).split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m.startsWith(dir + "/"));
}

/** What Berth reports against the host; returns the mismatches (empty: they agree). */
async function mismatches(env: CtrEnv, state: string): Promise<string[]> {
  const d = env.d;
  const bad: string[] = [];
  const podList = await pods(d);
  const podIds = new Set(podList.map((p) => p.id));
  const readyInfra = new Set<number>();
  for (const p of podList) {
    const info = await podInfo(d, p.id);
    if (p.state === PodSandboxState.SANDBOX_READY) {
      if (info.netnsPath && !(await mountsUnder(join(state, "ns"))).includes(info.netnsPath)) bad.push(`pod ${p.id} READY without its netns pin`);
      if (info.pid > 0) {
        readyInfra.add(info.pid);
        if (!(await alive(info.pid))) bad.push(`pod ${p.id} READY but its infra ${info.pid} is gone`);
      }
    }
  }
  for (const i of await findInfraProcesses(join(state, "ns", "pidns"), join(state, "infra", "root"))) {
    if (i.kind === "init" && !readyInfra.has(i.pid)) bad.push(`infra process ${i.pid} of no READY pod`);
  }
  const ctrs = await listCtrs(d);
  const ctrIds = new Set(ctrs.map((c) => c.id));
  const conmons = await conmonsOf(state);
  for (const c of ctrs) {
    if (!podIds.has(c.podSandboxId)) bad.push(`container ${c.id} of unlisted pod ${c.podSandboxId}`);
    const pid = await verbosePid(d, c.id);
    if (c.state === ContainerState.CONTAINER_RUNNING && !(await alive(pid))) bad.push(`container ${c.id} RUNNING but pid ${pid} is gone`);
    if (c.state === ContainerState.CONTAINER_EXITED && pid !== 0) bad.push(`container ${c.id} EXITED with pid ${pid}`);
    if (c.state === ContainerState.CONTAINER_RUNNING && !conmons.has(c.id)) bad.push(`container ${c.id} RUNNING without its conmon`);
  }
  for (const [id, pid] of conmons) if (!ctrIds.has(id)) bad.push(`conmon ${pid} of unlisted container ${id}`);
  for (const id of await readdir(join(state, "runc")).catch(() => [])) if (!ctrIds.has(id)) bad.push(`runc state of unlisted container ${id}`);
  for (const m of await mountsUnder(join(state, "containers"))) {
    const id = m.slice(join(state, "containers").length + 1).split("/")[0]!;
    if (!ctrIds.has(id)) bad.push(`mount ${m} of unlisted container`);
  }
  for (const m of await mountsUnder(join(state, "pods"))) {
    const id = m.slice(join(state, "pods").length + 1).split("/")[0]!;
    if (!podIds.has(id)) bad.push(`mount ${m} of unlisted pod`);
  }
  return bad;
}

/** Half-made things are cleaned up in the background after a start: give that a moment. */
async function assertMatchesHost(env: CtrEnv, state: string, when: string): Promise<void> {
  let bad: string[] = [];
  for (let i = 0; i < 100; i++) {
    bad = await mismatches(env, state);
    if (bad.length === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(bad, [], `${when}: Berth and the host disagree`);
}

test(`chaos: ${STEPS} random steps, about half cut by SIGKILL of the daemon; Berth matches the host after each restart and nothing leaks`, async (t) => {
  const env = await ctrEnv(t, r);
  const state = env.d.state;
  const ops: Record<string, number> = {};
  let kills = 0;
  for (let step = 0; step < STEPS; step++) {
    const d = env.d;
    const podList = (await pods(d)).filter((p) => p.state === PodSandboxState.SANDBOX_READY);
    const ctrs = await listCtrs(d);
    const running = ctrs.filter((c) => c.state === ContainerState.CONTAINER_RUNNING && podList.some((p) => p.id === c.podSandboxId));
    const created = ctrs.filter((c) => c.state === ContainerState.CONTAINER_CREATED && podList.some((p) => p.id === c.podSandboxId));
    const choices: Array<[string, () => Promise<unknown>]> = [["runPod", () => runPodWithLogs(env, { pid: Math.random() < 0.5 ? NamespaceMode.POD : NamespaceMode.CONTAINER })]];
    const pod = pick(podList);
    if (pod) {
      const cmd = Math.random() < 0.8 ? ["sleep", "1000"] : ["sh", "-c", "sleep 0.2; exit 2"];
      choices.push(["create", () => createCtr(env, pod.id, ctrConfig(env, { command: cmd }))], ["stopPod", () => stopPod(d, pod.id)]);
      if (podList.length > 2) choices.push(["removePod", () => removePod(d, pod.id)]);
    }
    const c1 = pick(created);
    if (c1) choices.push(["start", () => startCtr(d, c1.id)], ["start", () => startCtr(d, c1.id)]);
    const c2 = pick(running);
    if (c2) choices.push(["exec", () => exec(d, c2.id, ["true"])], ["stop", () => stopCtr(d, c2.id, 1n)]);
    const c3 = pick(ctrs);
    if (c3 && ctrs.length > 3) choices.push(["remove", () => removeCtr(d, c3.id)]);
    // A second image, used by no container: pulled and removed, cut by kills like the rest.
    const rich = r.rich!.reference;
    if (Math.random() < 0.3) choices.push(["pull", () => pull(d, rich)], ["rmi", () => removeImage(d, rich)]);
    const [name, fn] = pick(choices)!;
    ops[name] = (ops[name] ?? 0) + 1;
    const call = fn();
    call.catch(() => undefined);
    if (Math.random() >= KILL_SHARE) {
      // Image calls must work whatever an earlier kill cut short (no poisoned blob, layer or record).
      if (name === "pull" || name === "rmi") await call;
      else await call.catch(() => undefined);
      continue;
    }
    // Containers running before the kill that this step does not touch must still run after it.
    const untouched = new Map<string, number>();
    const touched = (id: string, podId: string) =>
      (name === "stop" && id === c2?.id) || (name === "remove" && id === c3?.id) || ((name === "stopPod" || name === "removePod") && podId === pod?.id);
    for (const c of running) if (!touched(c.id, c.podSandboxId)) untouched.set(c.id, await verbosePid(d, c.id).catch(() => 0));
    await new Promise((res) => setTimeout(res, Math.random() * MAX_KILL_DELAY_MS));
    await killDaemon(d);
    kills++;
    const next = await env.restart();
    await assertMatchesHost(env, state, `step ${step} (${name} cut by SIGKILL)`);
    for (const [id, pid] of untouched) {
      if (pid === 0 || !(await alive(pid))) continue; // it ended by itself (the short-lived command)
      const s = await ctrStatus(next, id);
      assert.equal(s.status!.state, ContainerState.CONTAINER_RUNNING, `step ${step}: untouched container ${id} still running`);
      assert.equal(await verbosePid(next, id), pid);
    }
  }
  await assertMatchesHost(env, state, "at the end");
  // The image store survived every kill: the second image can be removed, pulled and read again.
  const rich = r.rich!.reference;
  if ((await listImages(env.d, rich)).length > 0) await removeImage(env.d, rich);
  await pull(env.d, rich);
  assert.ok((await imageStatus(env.d, rich)).image, "the second image is pulled again after the chaos");
  t.diagnostic(`ops ${JSON.stringify(ops)}, kills ${kills}`);
  for (const p of await pods(env.d)) await removePod(env.d, p.id);
  assert.equal((await listCtrs(env.d)).length, 0);
  await assertNoLeaksOnceSettled(env);
});
