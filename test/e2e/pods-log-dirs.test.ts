// Logs of removed containers: a pod log_directory Berth made goes with its pod (RemovePodSandbox, or
// GC at start when the pod went while Berth was down); kubelet's own directory is never touched.
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import { forceCleanup } from "../fixtures/leaks.js";
import { createCtr, ctrConfig, ctrEnv, removeCtr, runPodWithLogs, sharedRegistry, startCtr, stopCtr, waitLog, type CtrEnv, type Registry } from "./containers-kit.js";
import { removePod } from "./pods-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

/** A pod logging to `logDir` with one started container printing a line every 50 ms; its log path. */
async function podLogging(env: CtrEnv, name: string, logDir: string): Promise<{ pod: string; ctr: string; log: string }> {
  const pod = await runPodWithLogs(env, { name, config: { logDirectory: logDir } });
  const ctr = await createCtr(env, pod, ctrConfig(env, { name: "app", command: ["sh", "-c", "while true; do echo tick; sleep 0.05; done"] }));
  await startCtr(env.d, ctr);
  const log = join(logDir, "app/0.log");
  await waitLog(log, /tick/);
  return { pod, ctr, log };
}

test("a log directory Berth made goes with its pod; kubelet's stays; a shared one stays until its last pod goes", async (t) => {
  const env = await ctrEnv(t, r);
  const made = await podLogging(env, "made", join(env.logRoot, "made"));
  const kubeletDir = join(env.logRoot, "kubelet");
  await mkdir(kubeletDir, { recursive: true });
  const kubelet = await podLogging(env, "kubelet", kubeletDir);
  const shared1 = await podLogging(env, "shared1", join(env.logRoot, "shared"));
  const shared2 = await podLogging(env, "shared2", join(env.logRoot, "shared"));

  // RemoveContainer never deletes a log (kubelet's job, as with containerd and CRI-O).
  await stopCtr(env.d, made.ctr, 0n);
  await removeCtr(env.d, made.ctr);
  assert.ok(existsSync(made.log));
  await removePod(env.d, made.pod);
  assert.equal(existsSync(join(env.logRoot, "made")), false, "the directory Berth made went with its pod");
  await removePod(env.d, kubelet.pod);
  assert.ok(existsSync(kubelet.log), "a directory Berth did not make is never touched");
  await removePod(env.d, shared1.pod);
  assert.ok(existsSync(shared2.log), "a pod still logging there keeps the directory");
  await waitLog(shared2.log, /tick/); // still written
  await removePod(env.d, shared2.pod);
  assert.equal(existsSync(join(env.logRoot, "shared")), false, "the last pod took it");
});

test("GC at start removes the log directory Berth made for a pod removed while it was down; a live pod's logs stay and keep growing", async (t) => {
  const env = await ctrEnv(t, r);
  const gone = await runPodWithLogs(env, { name: "gone", config: { logDirectory: join(env.logRoot, "gone") } });
  await mkdir(join(env.logRoot, "gone", "app"));
  await writeFile(join(env.logRoot, "gone", "app", "0.log"), "2026-01-01T00:00:00Z stdout F a line of a container removed with its pod\n");
  const live = await podLogging(env, "live", join(env.logRoot, "live"));
  // A gone pod made this one, a live pod logs there too: it stays, now the live pod's.
  const goneMaker = await runPodWithLogs(env, { name: "gone-maker", config: { logDirectory: join(env.logRoot, "shared") } });
  const heir = await podLogging(env, "heir", join(env.logRoot, "shared"));
  const { root, state } = env.d;
  env.d.client.close();
  env.d.proc.kill("SIGKILL");
  await once(env.d.proc, "exit");
  const db = new DatabaseSync(join(root, "berth.db"));
  db.prepare("DELETE FROM pods WHERE id IN (?, ?)").run(gone, goneMaker);
  db.close();
  const d = await env.restart();
  assert.equal(existsSync(join(env.logRoot, "gone")), false, "the gone pod's log directory is collected");
  assert.match(d.logs(), /removed the log directory Berth made for a pod it no longer has/);
  const before = (await waitLog(live.log, /tick/)).length;
  await waitLog(live.log, new RegExp(`^[\\s\\S]{${before + 1},}$`));
  assert.ok(existsSync(live.log), "the live pod's log is untouched and still written");
  assert.ok(existsSync(heir.log), "a directory a live pod logs to stays");
  await removePod(d, heir.pod);
  assert.equal(existsSync(join(env.logRoot, "shared")), false, "and goes with the pod that inherited it");

  // What the gone pod's removal never got to (pins, shm, cgroup, dir): not this collector's.
  await removePod(d, live.pod);
  await forceCleanup(env.leaks.scope);
  for (const id of [gone, goneMaker]) {
    await rm(join(state, "pods", id), { recursive: true, force: true });
    for (const kind of await readdir(join(state, "ns"))) await rm(join(state, "ns", kind, id), { force: true });
  }
});
