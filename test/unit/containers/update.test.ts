// UpdateContainerResources merging (a zero field keeps the current value, oom_score_adj is fixed),
// the pod cgroup writes of UpdatePodSandboxResources, and where container cgroups are named.
import assert from "node:assert/strict";
import { test } from "node:test";
import { conmonLeafName, containerCgroup } from "../../../src/containers/cgroup-path.js";
import { podCgroupWrites, sharesToWeight } from "../../../src/containers/pod-resources.js";
import { mergeResources } from "../../../src/containers/update.js";
import { reasonFor } from "../../../src/containers/exits.js";
import { LinuxContainerResources } from "../../../src/generated/runtime/v1/api.js";

test("a zero or empty field keeps the current value; unified keys merge", () => {
  const cur = LinuxContainerResources.fromPartial({ cpuShares: 512n, memoryLimitInBytes: 100n, oomScoreAdj: 5n, cpusetCpus: "0", unified: { "memory.high": "1" } });
  const m = mergeResources(cur, LinuxContainerResources.fromPartial({ memoryLimitInBytes: 200n, cpuQuota: 5000n, oomScoreAdj: 900n, unified: { "cpu.weight": "9" } }));
  assert.equal(m.cpuShares, 512n);
  assert.equal(m.memoryLimitInBytes, 200n);
  assert.equal(m.cpuQuota, 5000n);
  assert.equal(m.oomScoreAdj, 5n);
  assert.equal(m.cpusetCpus, "0");
  assert.deepEqual(m.unified, { "memory.high": "1", "cpu.weight": "9" });
  assert.equal(mergeResources(undefined, LinuxContainerResources.fromPartial({ cpuShares: 2n })).cpuShares, 2n);
});

test("pod cgroup writes for v1 and v2; shares become weights as runc converts them", () => {
  const r = LinuxContainerResources.fromPartial({ memoryLimitInBytes: 1024n, cpuShares: 1024n, cpuQuota: 20000n, cpuPeriod: 100000n });
  const v1 = podCgroupWrites("/p", r, [{ kind: "v1", mount: "/cg/memory", controllers: ["memory"] }, { kind: "v1", mount: "/cg/cpu", controllers: ["cpu"] }], false);
  assert.deepEqual(v1, [
    ["/cg/memory/p/memory.limit_in_bytes", "1024"], ["/cg/cpu/p/cpu.shares", "1024"], ["/cg/cpu/p/cpu.cfs_period_us", "100000"], ["/cg/cpu/p/cpu.cfs_quota_us", "20000"],
  ]);
  const v2 = podCgroupWrites("/p", r, [{ kind: "v2", mount: "/cg", controllers: [] }], true);
  assert.deepEqual(v2, [["/cg/p/memory.max", "1024"], ["/cg/p/cpu.weight", "39"], ["/cg/p/cpu.max", "20000 100000"]]);
  assert.equal(sharesToWeight(2n), 1n);
  assert.equal(sharesToWeight(262144n), 10000n);
});

test("container cgroups: <pod>/<id> for cgroupfs, berth-<id>.scope in the pod slice for systemd", () => {
  assert.deepEqual(containerCgroup({ driver: "cgroupfs", name: "/kubepods/pod1", path: "/kubepods/pod1" }, "abc"), { cgroupsPath: "/kubepods/pod1/abc", path: "/kubepods/pod1/abc" });
  assert.deepEqual(containerCgroup({ driver: "systemd", name: "kubepods-pod1.slice", path: "/kubepods.slice/kubepods-pod1.slice" }, "abc"), {
    cgroupsPath: "kubepods-pod1.slice:berth:abc",
    path: "/kubepods.slice/kubepods-pod1.slice/berth-abc.scope",
  });
  assert.equal(conmonLeafName("f".repeat(64)), `berth-conmon-${"f".repeat(32)}`);
});

test("exit reasons", () => {
  assert.equal(reasonFor(0, false), "Completed");
  assert.equal(reasonFor(1, false), "Error");
  assert.equal(reasonFor(137, true), "OOMKilled");
});
