// Pod sandbox events as containerd sends them (container_id = sandbox ID): CREATED and STARTED
// when ready, STOPPED, DELETED; nothing for half-made pods or loaded ones that do not change.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ContainerEventType as T, type ContainerEventResponse } from "../../../src/generated/runtime/v1/api.js";
import { PodContext, type PodDeps } from "../../../src/pods/context.js";
import { markLoaded, podEventWatcher } from "../../../src/pods/events.js";
import { podFromRecord } from "../../../src/pods/record.js";
import { pod, POD_A, POD_B, POD_C } from "./records-kit.js";

function setup() {
  const got: ContainerEventResponse[] = [];
  const store = { put: () => undefined, delete: () => undefined };
  const events = { wanted: () => true, publish: (e: ContainerEventResponse) => got.push(e) };
  const ctx = new PodContext({ store, events } as unknown as PodDeps);
  ctx.watcher = podEventWatcher(ctx);
  const seen = () => got.map((e) => [e.containerId.slice(0, 3), T[e.containerEventType]]);
  return { ctx, got, seen };
}

test("run, stop, remove: CREATED and STARTED, STOPPED, DELETED with the sandbox status", () => {
  const { ctx, got, seen } = setup();
  const p = podFromRecord({ ...pod(POD_A, "1"), phase: "creating" });
  ctx.save(p);
  p.rec.phase = "ready";
  ctx.save(p);
  ctx.save(p);
  p.rec.phase = "notready";
  ctx.save(p);
  ctx.save(p); // a repeated Stop
  ctx.drop(p);
  assert.deepEqual(seen(), [["ab1", "CONTAINER_CREATED_EVENT"], ["ab1", "CONTAINER_STARTED_EVENT"], ["ab1", "CONTAINER_STOPPED_EVENT"], ["ab1", "CONTAINER_DELETED_EVENT"]]);
  assert.equal(got[0]!.podSandboxStatus?.id, POD_A);
  assert.equal(got[3]!.podSandboxStatus, undefined, "a removed sandbox has no status");
});

test("a half-made pod that fails announces nothing; a loaded pod found dead at start is STOPPED", () => {
  const { ctx, seen } = setup();
  const failed = podFromRecord({ ...pod(POD_B, "1"), phase: "creating" });
  ctx.save(failed);
  failed.rec.phase = "failed";
  ctx.save(failed);
  ctx.drop(failed);
  const loaded = podFromRecord(pod(POD_C, "1"));
  ctx.pods.set(POD_C, loaded);
  markLoaded(loaded);
  loaded.rec.phase = "notready";
  ctx.save(loaded);
  assert.deepEqual(seen(), [["c00", "CONTAINER_STOPPED_EVENT"]]);
});
