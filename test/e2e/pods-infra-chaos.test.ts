// Infra processes of shared-PID pods across daemon deaths: one spawned but never recorded is killed at the
// next start, and with the daemon SIGKILLed at random points of Run/Stop/RemovePodSandbox none outlives its pod.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { call } from "../../src/cli/client.js";
import { ListPodSandboxRequest, NamespaceMode, PodSandboxState } from "../../src/generated/runtime/v1/api.js";
import { findInfraProcesses } from "../../src/oci/infra-scan.js";
import { processAlive } from "../../src/oci/proc.js";
import type { Daemon } from "../fixtures/daemon.js";
import { findLeaks } from "../fixtures/leaks.js";
import { podEnv, podInfo, podStatus, removePod, run, runPod, stopPod, type PodEnv } from "./pods-kit.js";

const STEPS = Number(process.env["BERTH_CHAOS_STEPS"] ?? 8);

/** A start cleans half-made pods and containers up in the background: wait (bounded) for that, then check. */
async function assertNoLeaksOnceSettled(env: PodEnv): Promise<void> {
  for (let i = 0; i < 100 && (await findLeaks(env.leaks.scope, env.leaks.before)).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  await env.leaks.assertNoLeaks();
}

async function killDaemon(d: Daemon): Promise<void> {
  d.client.close();
  if (d.proc.exitCode === null && d.proc.signalCode === null) {
    d.proc.kill("SIGKILL");
    await once(d.proc, "exit");
  }
}

/** The state dir every daemon of env runs on (restarted daemons get --state of the first). */
const stateOf = new WeakMap<PodEnv, string>();

async function infras(env: PodEnv) {
  const state = stateOf.get(env)!;
  return findInfraProcesses(join(state, "ns", "pidns"), join(state, "infra", "root"));
}

async function listPods(d: Daemon) {
  const c = d.client;
  return (await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items;
}

/** Every infra process on the host belongs to a READY pod Berth lists, and every READY shared-PID pod has its own. */
async function assertInfrasMatchPods(env: PodEnv, when: string): Promise<void> {
  const ready = new Set<number>();
  for (const p of await listPods(env.d)) if (p.state === PodSandboxState.SANDBOX_READY) ready.add((await podInfo(env.d, p.id)).pid);
  const inits = (await infras(env)).filter((p) => p.kind === "init").map((p) => p.pid);
  assert.deepEqual(inits.sort(), [...ready].sort(), `${when}: catatonit processes vs READY pods' infra pids`);
}

test("an infra process the daemon spawned but never recorded is killed at the next start; recorded ones are kept", async (t) => {
  const env = await podEnv(t);
  stateOf.set(env, env.d.state);
  const kept = await runPod(env.d, { pid: NamespaceMode.POD });
  const keptPid = (await podInfo(env.d, kept)).pid;
  await killDaemon(env.d);

  // What RunPodSandbox leaves when killed between spawning the infra and saving it.
  const state = env.d.state;
  const root = join(state, "infra", "root");
  const orphans = [];
  for (const name of ["orphan-a", "orphan-b"]) {
    const pin = join(state, "ns", "pidns", name);
    await mkdir(join(state, "ns", "pidns"), { recursive: true });
    await writeFile(pin, "");
    t.after(() => run("umount", [pin]).catch(() => undefined));
    const p = spawn("unshare", [`--pid=${pin}`, "--fork", `--root=${root}`, "--wd=/", "--setuid", "65534", "--setgid", "65534", "/catatonit", "-P"], { detached: true, stdio: "ignore" });
    t.after(() => p.kill("SIGKILL"));
    orphans.push(p);
  }
  let found = await infras(env);
  for (let i = 0; i < 500 && found.filter((p) => p.kind === "init").length < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
    found = await infras(env);
  }
  const strays = found.filter((p) => p.pid !== keptPid && !p.pin?.endsWith(kept));
  assert.equal(strays.length, 4, `two monitors and two catatonits: ${JSON.stringify(found)}`);
  // One monitor dies too: its catatonit is re-parented and found by its chroot alone.
  orphans[1]!.kill("SIGKILL");
  await once(orphans[1]!, "exit");

  const d = await env.restart();
  for (const p of strays) assert.equal(await processAlive(p.pid, p.startTime), false, `stray infra ${p.kind} ${p.pid} was killed`);
  assert.equal((await podStatus(d, kept)).status!.state, PodSandboxState.SANDBOX_READY);
  assert.equal((await podInfo(d, kept)).pid, keptPid, "the recorded infra is kept");
  await assertInfrasMatchPods(env, "after restart");
  // The pins the test made itself (the daemon never knew them).
  for (const name of ["orphan-a", "orphan-b"]) {
    await run("umount", [join(state, "ns", "pidns", name)]).catch(() => undefined);
    await rm(join(state, "ns", "pidns", name), { force: true });
  }
  await removePod(d, kept);
  await env.leaks.assertNoLeaks();
});

test(`daemon SIGKILLed at random points of Run/Stop/RemovePodSandbox of shared-PID pods (${STEPS} kills): no infra outlives its pod`, async (t) => {
  const env = await podEnv(t);
  stateOf.set(env, env.d.state);
  // How long each call takes here, so kills land inside them.
  const t0 = performance.now();
  const probe = await runPod(env.d, { pid: NamespaceMode.POD });
  const runMs = performance.now() - t0;
  const t1 = performance.now();
  await stopPod(env.d, probe);
  await removePod(env.d, probe);
  const downMs = performance.now() - t1;
  let ready: string[] = [];
  for (let step = 0; step < STEPS; step++) {
    const op = ready.length === 0 || step % 3 === 0 ? "run" : step % 3 === 1 ? "stop" : "remove";
    const target = ready[Math.floor(Math.random() * ready.length)];
    const inFlight =
      op === "run" ? runPod(env.d, { pid: NamespaceMode.POD }) : op === "stop" ? stopPod(env.d, target!) : removePod(env.d, target!);
    inFlight.catch(() => undefined);
    await new Promise((r) => setTimeout(r, Math.random() * (op === "run" ? runMs : downMs)));
    await killDaemon(env.d);
    const d = await env.restart();
    await assertInfrasMatchPods(env, `step ${step} (${op})`);
    ready = [];
    for (const p of await listPods(d)) if (p.state === PodSandboxState.SANDBOX_READY) ready.push(p.id);
  }
  for (const p of await listPods(env.d)) await removePod(env.d, p.id);
  assert.deepEqual((await infras(env)).map((p) => `${p.kind} ${p.pid}`), []);
  await assertNoLeaksOnceSettled(env);
});
