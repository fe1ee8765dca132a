// A conmon killed under a running container: the container stays reported as running while its
// process lives, its later exit is still recorded, and Stop and Remove work and leave nothing.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { ContainerState } from "../../src/generated/runtime/v1/api.js";
import { removePod } from "./pods-kit.js";
import { ctrEnv, ctrStatus, exec, listCtrs, removeCtr, runCtr, sharedRegistry, stopCtr, waitState, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

const infoOf = async (d: Parameters<typeof ctrStatus>[0], id: string) =>
  JSON.parse((await ctrStatus(d, id, true)).info["info"]!) as { pid: number; runtime: { conmonPid: number } };

async function procState(pid: number): Promise<string | undefined> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

async function killAndWaitGone(pid: number, signal: NodeJS.Signals): Promise<void> {
  process.kill(pid, signal);
  for (let i = 0; i < 500; i++) {
    const st = await procState(pid);
    if (st === undefined || st === "Z") return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`pid ${pid} still runs after ${signal}`);
}

test("conmon killed under a running container: still running, its exit recorded, stoppable and removable", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const a = await runCtr(env, { name: "a", command: ["sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.1; done"] });
  const b = await runCtr(env, { name: "b", command: ["sleep", "1000"] });
  const ia = await infoOf(d, a.id);
  const ib = await infoOf(d, b.id);
  await killAndWaitGone(ia.runtime.conmonPid, "SIGKILL");
  await killAndWaitGone(ib.runtime.conmonPid, "SIGKILL");
  assert.notEqual(await procState(ia.pid), undefined, "the container outlives its conmon");

  // Reported as it is: still running, and usable.
  assert.equal((await ctrStatus(d, a.id)).status!.state, ContainerState.CONTAINER_RUNNING);
  assert.equal((await exec(d, a.id, ["echo", "alive"])).stdout.toString(), "alive\n");
  const c = d.client;
  await assert.rejects(call(c, c.runtime, c.runtime.reopenContainerLog, { containerId: a.id }), (e: ServiceError) => e.code === grpc.FAILED_PRECONDITION && /monitor \(conmon\) died/.test(e.details));

  // Its own exit, with nobody left to write the exit file, is recorded.
  process.kill(ia.pid, "SIGTERM");
  const sa = await waitState(d, a.id, ContainerState.CONTAINER_EXITED);
  // pid 1 may reap the orphan before Berth reads its status: then the code is unknown (255).
  const reaped = (await procState(ia.pid)) === undefined;
  if (reaped) assert.deepEqual([sa.status!.exitCode, /unknown/.test(sa.status!.message)], [255, true]);
  else assert.equal(sa.status!.exitCode, 7);
  assert.equal(sa.status!.reason, "Error");
  assert.ok(sa.status!.finishedAt >= sa.status!.startedAt);

  // Stop works without conmon: sleep, PID 1 of its namespace, ignores SIGTERM, so SIGKILL ends it.
  await stopCtr(d, b.id, 2n);
  const sb = await ctrStatus(d, b.id);
  assert.equal(sb.status!.state, ContainerState.CONTAINER_EXITED);
  assert.equal(sb.status!.exitCode, 137);
  assert.equal(await procState(ib.pid) === undefined || (await procState(ib.pid)) === "Z", true);

  await removeCtr(d, a.id);
  await removeCtr(d, b.id);
  assert.equal((await listCtrs(d)).length, 0);
  await removePod(d, a.podId);
  await removePod(d, b.podId);
  await env.leaks.assertNoLeaks();
});
