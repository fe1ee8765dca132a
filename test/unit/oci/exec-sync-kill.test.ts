// Tests of ExecSync's timeout kill without runc or root: plain processes stand in for runc and
// the exec's session, to show a pid that may have been reused is never signalled.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { killExecTree } from "../../../src/oci/exec-sync.js";
import { procStartTime, processAlive, sessionIdentities, signalIdentity } from "../../../src/oci/proc.js";

async function tempPidFile(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "berth-execkill-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, "exec.pid");
}

/** A stand-in for `runc exec`: starts `script` as the leader of a new session and prints its pid. */
async function fakeRunc(t: TestContext, script: string): Promise<{ runc: ChildProcess; leader: number }> {
  const runc = spawn("sh", ["-c", `setsid sh -c '${script}' </dev/null >/dev/null 2>&1 & echo $!; wait`], { stdio: ["ignore", "pipe", "ignore"] });
  t.after(() => runc.kill("SIGKILL"));
  const line = await new Promise<string>((res) => runc.stdout!.once("data", (d: Buffer) => res(d.toString())));
  return { runc, leader: Number(line.trim()) };
}

async function gone(pids: number[]): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    const alive = await Promise.all(pids.map((p) => processAlive(p)));
    if (!alive.some(Boolean)) return true;
    await delay(10);
  }
  return false;
}

test("signalIdentity refuses a pid whose start time is not the recorded one", async (t) => {
  const p = spawn("sleep", ["30"], { stdio: "ignore" });
  t.after(() => p.kill("SIGKILL"));
  const pid = p.pid!;
  const startTime = (await procStartTime(pid))!;
  assert.equal(await signalIdentity({ pid, startTime: String(Number(startTime) - 1) }, "SIGKILL"), false);
  await delay(50);
  assert.ok(await processAlive(pid), "the process whose start time differs was not signalled");
  assert.equal(await signalIdentity({ pid, startTime }, "SIGKILL"), true);
  assert.ok(await gone([pid]));
});

test("the exec's leader (a child of the unreaped runc) and its whole session are killed", async (t) => {
  const pidFile = await tempPidFile(t);
  const { runc, leader } = await fakeRunc(t, "sleep 30 & sleep 30");
  await writeFile(pidFile, String(leader));
  for (let i = 0; i < 500 && (await sessionIdentities(leader)).length < 3; i++) await delay(10);
  const session = (await sessionIdentities(leader)).map((p) => p.pid);
  assert.equal(session.length, 3);
  const killed = await killExecTree(runc, pidFile);
  assert.deepEqual([...killed].sort(), [...session].sort());
  assert.ok(await gone(session));
});

test("with the leader gone, the orphans still in its session are killed", async (t) => {
  const pidFile = await tempPidFile(t);
  const { runc, leader } = await fakeRunc(t, "sleep 30 & exit 0");
  await writeFile(pidFile, String(leader));
  for (let i = 0; i < 500 && (await processAlive(leader)); i++) await delay(10);
  const orphans = (await sessionIdentities(leader)).map((p) => p.pid);
  assert.equal(orphans.length, 1);
  assert.deepEqual(await killExecTree(runc, pidFile), orphans);
  assert.ok(await gone(orphans));
});

test("a pid file naming a live process that runc did not start (a reused pid) signals nothing", async (t) => {
  const pidFile = await tempPidFile(t);
  const { runc } = await fakeRunc(t, "sleep 30");
  // The exec's leader exited and its pid now names a stranger: another session leader.
  const stranger = spawn("sh", ["-c", "sleep 30 & wait"], { detached: true, stdio: "ignore" });
  t.after(() => {
    try {
      process.kill(-stranger.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  });
  for (let i = 0; i < 500 && (await sessionIdentities(stranger.pid!)).length < 2; i++) await delay(10);
  await writeFile(pidFile, String(stranger.pid));
  assert.deepEqual(await killExecTree(runc, pidFile), []);
  await delay(50);
  assert.ok(await processAlive(stranger.pid!), "the stranger lives");
  assert.equal((await sessionIdentities(stranger.pid!)).length, 2, "and so does its session");
});

test("once Node has reaped runc, neither runc's pid nor the leader it parented is signalled", async (t) => {
  const pidFile = await tempPidFile(t);
  const { runc, leader } = await fakeRunc(t, "sleep 30");
  await writeFile(pidFile, String(leader));
  // As if runc had exited and been reaped: its pid, and so the leader's parentage, prove nothing.
  const reaped = { pid: runc.pid, exitCode: 0, signalCode: null };
  assert.deepEqual(await killExecTree(reaped, pidFile), []);
  await delay(50);
  assert.ok(await processAlive(leader));
  assert.ok(await processAlive(runc.pid!));
  process.kill(-leader, "SIGKILL");
});
