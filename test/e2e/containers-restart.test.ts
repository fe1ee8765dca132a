// Containers across daemon restarts: running ones keep running under their conmon, exits that
// happen while Berth is down are read back from conmon's files, and everything stays manageable.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ContainerState, MountPropagation } from "../../src/generated/runtime/v1/api.js";
import { removePod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, ctrStatus, exec, listCtrs, runPodWithLogs, sharedRegistry, startCtr, stopCtr, waitState, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

async function alive(pid: number): Promise<boolean> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const pidOf = async (d: Parameters<typeof ctrStatus>[0], id: string) => (JSON.parse((await ctrStatus(d, id, true)).info["info"]!) as { pid: number }).pid;

test("after a restart: running containers are adopted, exits while down are recorded, created ones start", async (t) => {
  const env = await ctrEnv(t, r);
  const host = await mkdtemp(join(tmpdir(), "berth-restart-"));
  t.after(() => rm(host, { recursive: true, force: true }));
  const podId = await runPodWithLogs(env);
  const vol = { containerPath: "/m", hostPath: host, readonly: false, selinuxRelabel: false, propagation: MountPropagation.PROPAGATION_PRIVATE, uidMappings: [], gidMappings: [], recursiveReadOnly: false, image: undefined, imageSubPath: "" };
  const a = await createCtr(env, podId, ctrConfig(env, { name: "a", command: ["sleep", "1000"] }));
  const b = await createCtr(env, podId, ctrConfig(env, { name: "b", command: ["sh", "-c", "while [ ! -f /m/go ]; do sleep 0.02; done; exit 5"], mounts: [vol] }));
  const c = await createCtr(env, podId, ctrConfig(env, { name: "c", command: ["sleep", "1000"] }));
  await startCtr(env.d, a);
  await startCtr(env.d, b);
  const [pa, pb] = [await pidOf(env.d, a), await pidOf(env.d, b)];
  const before = await ctrStatus(env.d, a);

  env.d.proc.kill("SIGTERM");
  await once(env.d.proc, "exit");
  assert.ok(await alive(pa), "containers outlive the daemon");
  await writeFile(join(host, "go"), "");
  for (let i = 0; i < 250 && (await alive(pb)); i++) await new Promise((res) => setTimeout(res, 20));
  assert.ok(!(await alive(pb)), "b exited while the daemon was down");
  const d = await env.restart();

  const sa = await ctrStatus(d, a);
  assert.equal(sa.status!.state, ContainerState.CONTAINER_RUNNING);
  assert.equal(sa.status!.startedAt, before.status!.startedAt);
  assert.equal(await pidOf(d, a), pa);
  assert.equal((await exec(d, a, ["echo", "still here"])).stdout.toString(), "still here\n");
  const sb = await ctrStatus(d, b);
  assert.deepEqual([sb.status!.state, sb.status!.exitCode, sb.status!.reason], [ContainerState.CONTAINER_EXITED, 5, "Error"]);
  assert.ok(sb.status!.finishedAt > sb.status!.startedAt);
  assert.equal((await ctrStatus(d, c)).status!.state, ContainerState.CONTAINER_CREATED);
  await startCtr(d, c);
  await waitState(d, c, ContainerState.CONTAINER_RUNNING);
  assert.equal((await listCtrs(d)).length, 3);
  // The exit watcher works for adopted containers too.
  process.kill(await pidOf(d, c), "SIGKILL");
  const sc = await waitState(d, c, ContainerState.CONTAINER_EXITED);
  assert.equal(sc.status!.exitCode, 137);
  await stopCtr(d, a, 0n);
  assert.equal((await ctrStatus(d, a)).status!.exitCode, 137);
  await removePod(d, podId);
  assert.equal((await listCtrs(d)).length, 0);
  await env.leaks.assertNoLeaks();
});
