// Container lifecycle events from the index: one event per visible phase change, in order, with
// the pod's statuses; nothing for loaded records or never-visible ones; STOPPED before DELETED.
import { eventWatcher } from "../../../src/containers/events.js";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ContainerContext, type ContainerDeps } from "../../../src/containers/context.js";
import { containerFromRecord, type ContainerRecord } from "../../../src/containers/record.js";
import { ContainerStore } from "../../../src/containers/store.js";
import { ContainerConfig, ContainerEventType as T, type ContainerEventResponse } from "../../../src/generated/runtime/v1/api.js";
import { Store } from "../../../src/store/db.js";

const POD = "p".repeat(64);

function record(id: string, phase: ContainerRecord["phase"]): ContainerRecord {
  return {
    v: 1, id, podId: POD, phase, createdAt: "1", startedAt: "0", finishedAt: "0", exitCode: 0, reason: "", message: "",
    config: ContainerConfig.toJSON(ContainerConfig.fromPartial({ metadata: { name: id.slice(0, 4), attempt: 0 } })),
    resources: null, image: { name: "busybox", id: "sha256:x", chainIds: [] }, paths: { bundle: "/b", dir: "/d" },
    mounted: false, logPath: "", cgroupsPath: "/c", cgroupPath: "/c", user: { uid: 0, gid: 0, additionalGids: [] },
  };
}

async function setup(t: { after(fn: () => Promise<void>): void }, listening = true) {
  const dir = await mkdtemp(join(tmpdir(), "berth-events-"));
  const db = Store.open(join(dir, "berth.db"));
  t.after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const got: ContainerEventResponse[] = [];
  const events = { wanted: () => listening, publish: (e: ContainerEventResponse) => got.push(e) };
  const pods = { sandboxStatus: (id: string) => ({ id }) };
  const ctx = new ContainerContext({ store: new ContainerStore(db), pods, events } as unknown as ContainerDeps);
  ctx.watcher = eventWatcher(ctx);
  const seen = () => got.map((e) => [e.containerId.slice(0, 1), T[e.containerEventType]]);
  return { ctx, got, seen };
}

test("create, start, exit, remove: one event each, in order, with the pod's statuses", async (t) => {
  const { ctx, got, seen } = await setup(t);
  const a = containerFromRecord(record("a".repeat(64), "creating"));
  ctx.save(a); // hidden: nothing yet
  a.rec.mounted = true;
  ctx.save(a);
  a.rec.phase = "created";
  ctx.save(a);
  ctx.save(a); // no change, no event
  a.rec.phase = "running";
  ctx.save(a);
  a.rec.phase = "exited";
  a.rec.exitCode = 3;
  ctx.save(a);
  ctx.drop(a);
  assert.deepEqual(seen(), [["a", "CONTAINER_CREATED_EVENT"], ["a", "CONTAINER_STARTED_EVENT"], ["a", "CONTAINER_STOPPED_EVENT"], ["a", "CONTAINER_DELETED_EVENT"]]);
  assert.equal(got[2]!.podSandboxStatus?.id, POD);
  assert.deepEqual(got[2]!.containersStatuses.map((s) => [s.id, s.exitCode]), [[a.rec.id, 3]]);
  assert.deepEqual(got[3]!.containersStatuses, [], "DELETED: the container is no longer among the pod's");
});

test("removed before its exit was recorded: STOPPED then DELETED; a never-visible one: nothing", async (t) => {
  const { ctx, seen } = await setup(t);
  const b = containerFromRecord(record("b".repeat(64), "created"));
  ctx.save(b);
  ctx.drop(b);
  const h = containerFromRecord(record("c".repeat(64), "creating"));
  ctx.save(h);
  ctx.drop(h);
  assert.deepEqual(seen(), [["b", "CONTAINER_CREATED_EVENT"], ["b", "CONTAINER_STOPPED_EVENT"], ["b", "CONTAINER_DELETED_EVENT"]]);
});

test("loaded records announce nothing until they change (an exit found at start is STOPPED)", async (t) => {
  const { ctx, seen } = await setup(t);
  const r = containerFromRecord(record("d".repeat(64), "running"));
  const e = containerFromRecord(record("e".repeat(64), "exited"));
  ctx.load(r);
  ctx.load(e);
  ctx.save(r);
  ctx.save(e);
  assert.deepEqual(seen(), []);
  r.rec.phase = "exited";
  ctx.save(r);
  assert.deepEqual(seen(), [["d", "CONTAINER_STOPPED_EVENT"]]);
});

test("with nobody listening nothing is built, yet the phase is tracked (no stale event later)", async (t) => {
  const { ctx, got } = await setup(t, false);
  const a = containerFromRecord(record("f".repeat(64), "created"));
  ctx.save(a);
  a.rec.phase = "running";
  ctx.save(a);
  assert.equal(got.length, 0);
});
