// GetContainerEvents end to end: pod and container lifecycle events in order with the pod's
// statuses, a subscriber that never reads neither delays another nor holds memory (it is cut
// off), and an exit that happened while the daemon was down is sent after the restart.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { ContainerEventType as T, ContainerState } from "../../src/generated/runtime/v1/api.js";
import { removePod, stopPod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, ctrStatus, removeCtr, runPodWithLogs, sharedRegistry, startCtr, waitState, type Registry } from "./containers-kit.js";
import { describe, is, stalledWatch, watchEvents } from "./events-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

/** Big annotations make every event (which carries all of the pod's container statuses) large. */
const bulky = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`test/pad-${i}`, "x".repeat(2000)]));

test("lifecycle events in order with statuses; a subscriber that never reads is cut off without delaying another", async (t) => {
  const env = await ctrEnv(t, r, { runtimeToml: "\n[events]\nqueue_size = 16" });
  const stalled = await stalledWatch(env.d.socket);
  const live = await watchEvents(env.d);

  const podId = await runPodWithLogs(env);
  const x = await createCtr(env, podId, ctrConfig(env, { name: "x", command: ["sh", "-c", "sleep 0.3; exit 3"] }));
  await startCtr(env.d, x);
  const stopped = await live.until(is(x, T.CONTAINER_STOPPED_EVENT));
  assert.equal(stopped.podSandboxStatus?.id, podId);
  const xs = stopped.containersStatuses.find((s) => s.id === x);
  assert.deepEqual([xs?.state, xs?.exitCode], [ContainerState.CONTAINER_EXITED, 3], "the STOPPED event carries the exit");
  assert.ok(stopped.createdAt >= xs!.finishedAt, "an event is made after the exit it reports");
  await removeCtr(env.d, x);

  // Enough large events to fill the stalled subscriber's transport and then its queue.
  const many: string[] = [];
  for (let i = 0; i < 20; i++) many.push(await createCtr(env, podId, ctrConfig(env, { name: `m${i}`, command: ["true"], annotations: bulky })));
  for (const id of many) await removeCtr(env.d, id);
  await stopPod(env.d, podId);
  await removePod(env.d, podId);
  await live.until(is(podId, T.CONTAINER_DELETED_EVENT));

  const seen = live.events.filter((e) => e.containerId === podId || e.containerId === x || many.includes(e.containerId)).map(describe);
  const want = [
    [podId, T.CONTAINER_CREATED_EVENT], [podId, T.CONTAINER_STARTED_EVENT],
    [x, T.CONTAINER_CREATED_EVENT], [x, T.CONTAINER_STARTED_EVENT], [x, T.CONTAINER_STOPPED_EVENT], [x, T.CONTAINER_DELETED_EVENT],
    ...many.map((id) => [id, T.CONTAINER_CREATED_EVENT] as const),
    // Removing a created container kills it: STOPPED, then DELETED.
    ...many.flatMap((id) => [[id, T.CONTAINER_STOPPED_EVENT], [id, T.CONTAINER_DELETED_EVENT]] as const),
    [podId, T.CONTAINER_STOPPED_EVENT], [podId, T.CONTAINER_DELETED_EVENT],
  ].map(([id, type]) => describe({ containerId: id as string, containerEventType: type as T, createdAt: 0n, podSandboxStatus: undefined, containersStatuses: [] }));
  assert.deepEqual(seen, want);
  const podStopped = live.events.find(is(podId, T.CONTAINER_STOPPED_EVENT))!;
  assert.equal(podStopped.podSandboxStatus?.id, podId, "sandbox events carry the sandbox's status");

  // The stalled subscriber, read only now: it got a prefix, then RESOURCE_EXHAUSTED telling it to re-list.
  const end = await stalled.resume();
  const got = end.events.map(describe);
  assert.equal(end.code, status.RESOURCE_EXHAUSTED, end.details);
  assert.match(end.details, /fell 16 events behind.*re-list/);
  assert.ok(got.length < want.length, `the stalled subscriber was cut off (${got.length} events)`);
  assert.deepEqual(got, want.slice(0, got.length), "what it did get is in order");
  assert.match(env.d.logs(), /cut off/);
  live.call.cancel();
  await env.leaks.assertNoLeaks();
});

test("an exit that happened while the daemon was down is sent to a subscriber after the restart", async (t) => {
  const env = await ctrEnv(t, r);
  const podId = await runPodWithLogs(env);
  const a = await createCtr(env, podId, ctrConfig(env, { name: "a", command: ["sleep", "1000"] }));
  await startCtr(env.d, a);
  const pid = (JSON.parse((await ctrStatus(env.d, a, true)).info["info"]!) as { pid: number }).pid;

  env.d.proc.kill("SIGTERM");
  await once(env.d.proc, "exit");
  process.kill(pid, "SIGKILL");
  // conmon outlives the daemon and records the exit; the new daemon reads it at start.
  const d = await env.restart();
  const w = await watchEvents(d);
  const e = await w.until(is(a, T.CONTAINER_STOPPED_EVENT));
  assert.equal(e.podSandboxStatus?.id, podId);
  assert.equal(e.containersStatuses.find((s) => s.id === a)?.exitCode, 137);
  assert.equal((await waitState(d, a, ContainerState.CONTAINER_EXITED)).status?.exitCode, 137);
  // Live events still flow after the replay.
  await removeCtr(d, a);
  await w.until(is(a, T.CONTAINER_DELETED_EVENT));
  assert.deepEqual(w.events.filter((x) => x.containerId === a).map(describe), [describe(e), describe({ ...e, containerEventType: T.CONTAINER_DELETED_EVENT })]);
  w.call.cancel();
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});
