// Tests of the List filters' ID resolution: an ID or pod ID prefix names one object first, as
// containerd resolves it; a prefix two pods (or containers) share lists nothing, never both.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ContainerContext, type ContainerDeps } from "../../../src/containers/context.js";
import { select } from "../../../src/containers/list.js";
import type { StatsCollector } from "../../../src/containers/stats/collector.js";
import { StatsRpc } from "../../../src/containers/stats/rpc.js";
import { containerFromRecord, type ContainerRecord } from "../../../src/containers/record.js";
import { ContainerConfig } from "../../../src/generated/runtime/v1/api.js";
import { podFromRecord } from "../../../src/pods/record.js";
import { POD_A, POD_B, POD_C, pod } from "../pods/records-kit.js";

function container(id: string, podId: string): ContainerRecord {
  return {
    v: 1, id, podId, phase: "created", createdAt: "1", startedAt: "0", finishedAt: "0", exitCode: 0, reason: "", message: "",
    config: ContainerConfig.toJSON(ContainerConfig.fromPartial({ metadata: { name: id.slice(0, 4), attempt: 0 } })),
    resources: null, image: { name: "busybox", id: "sha256:x", chainIds: [] }, paths: { bundle: "/b", dir: "/d" },
    mounted: false, logPath: "", cgroupsPath: "/c", cgroupPath: "/c", user: { uid: 0, gid: 0, additionalGids: [] },
  };
}

function containers(): ContainerContext {
  const pods = { all: () => [POD_A, POD_B, POD_C].map((id) => podFromRecord(pod(id, "1"))) };
  const ctx = new ContainerContext({ store: { put: () => undefined }, pods } as unknown as ContainerDeps);
  ctx.load(containerFromRecord(container(`e1${"0".repeat(62)}`, POD_A)));
  ctx.load(containerFromRecord(container(`e2${"0".repeat(62)}`, POD_B)));
  ctx.load(containerFromRecord(container(`f${"0".repeat(63)}`, POD_C)));
  return ctx;
}

const ids = (cs: { rec: { id: string } }[]): string[] => cs.map((c) => c.rec.id.slice(0, 2));

test("a pod ID prefix two pods share selects no container, not the containers of both", () => {
  const ctx = containers();
  assert.deepEqual(ids(select(ctx, { podSandboxId: "ab" })), []);
  assert.deepEqual(ids(select(ctx, { podSandboxId: "a" })), []);
  assert.deepEqual(ids(select(ctx, { podSandboxId: "ab2" })), ["e2"], "a unique prefix names one pod");
  assert.deepEqual(ids(select(ctx, { podSandboxId: "AB1" })), ["e1"], "case does not matter");
  assert.deepEqual(ids(select(ctx, { podSandboxId: POD_C })), ["f0"], "a full ID");
  assert.deepEqual(ids(select(ctx, { podSandboxId: "9" })), [], "no such pod");
  assert.deepEqual(ids(select(ctx, {})), ["e1", "e2", "f0"]);
});

test("ListContainerStats uses the same selection: an ambiguous pod prefix lists nothing", async () => {
  const collector = { snapshot: async () => ({}) };
  const rpc = new StatsRpc(containers(), collector as unknown as StatsCollector, () => []);
  assert.deepEqual(await rpc.listContainers({ id: "", podSandboxId: "ab", labelSelector: {} }), []);
});

test("ListPodSandboxStats: an ID prefix two pods share lists nothing", async () => {
  const collector = { snapshot: async () => Promise.reject(new Error("stats of a pod the filter did not name")) };
  const pods = [POD_A, POD_B].map((id) => podFromRecord(pod(id, "1")));
  const rpc = new StatsRpc(containers(), collector as unknown as StatsCollector, () => pods);
  assert.deepEqual(await rpc.listPods({ id: "ab", labelSelector: {} }), []);
});

test("a container ID prefix two containers share selects neither", () => {
  const ctx = containers();
  assert.deepEqual(ids(select(ctx, { id: "e" })), []);
  assert.deepEqual(ids(select(ctx, { id: "e2" })), ["e2"]);
  assert.deepEqual(ids(select(ctx, { id: "e2", podSandboxId: "ab1" })), [], "both filters apply");
});
