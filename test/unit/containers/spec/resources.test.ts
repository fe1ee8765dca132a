// cgroup resources from LinuxContainerResources, and the oom_score_adj floor.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildResources, oomScoreAdj, type ResourceOptions } from "../../../../src/containers/spec/resources.js";
import { LinuxContainerResources, type DeepPartial } from "../../../../src/generated/runtime/v1/api.js";
import { INVALID, throwsCode } from "./fixtures.js";

const r = (p: DeepPartial<LinuxContainerResources>) => LinuxContainerResources.fromPartial(p);
const V2: ResourceOptions = { cgroupV2: true, swapController: true };
const MiB = 1024 * 1024;

test("zero means unset: an empty request gives no limits", () => {
  assert.deepEqual(buildResources(r({}), V2), {});
  assert.deepEqual(buildResources(undefined, V2), {});
});

test("CPU shares, quota, period and cpusets", () => {
  const out = buildResources(r({ cpuShares: 512n, cpuQuota: 50000n, cpuPeriod: 100000n, cpusetCpus: "0-3,6", cpusetMems: "0" }), V2);
  assert.deepEqual(out.cpu, { shares: 512, quota: 50000, period: 100000, cpus: "0-3,6", mems: "0" });
  assert.deepEqual(buildResources(r({ cpuQuota: -1n }), V2).cpu, { quota: -1 });
  throwsCode(() => buildResources(r({ cpusetCpus: "0-3;rm -rf" }), V2), INVALID, /cpuset_cpus/);
  throwsCode(() => buildResources(r({ cpuShares: -2n }), V2), INVALID, /cpu_shares -2 is out of range/);
});

test("memory limit pins swap to the limit; an explicit swap limit wins; no swap without the controller", () => {
  assert.deepEqual(buildResources(r({ memoryLimitInBytes: BigInt(256 * MiB) }), V2).memory, { limit: 256 * MiB, swap: 256 * MiB });
  assert.deepEqual(buildResources(r({ memoryLimitInBytes: BigInt(256 * MiB), memorySwapLimitInBytes: BigInt(512 * MiB) }), V2).memory, { limit: 256 * MiB, swap: 512 * MiB });
  assert.deepEqual(buildResources(r({ memoryLimitInBytes: BigInt(256 * MiB), memorySwapLimitInBytes: -1n }), V2).memory, { limit: 256 * MiB, swap: -1 });
  assert.deepEqual(buildResources(r({ memoryLimitInBytes: BigInt(256 * MiB), memorySwapLimitInBytes: -1n }), { ...V2, swapController: false }).memory, { limit: 256 * MiB });
  throwsCode(() => buildResources(r({ memoryLimitInBytes: BigInt(256 * MiB), memorySwapLimitInBytes: BigInt(MiB) }), V2), INVALID, /below memory_limit_in_bytes/);
  throwsCode(() => buildResources(r({ memoryLimitInBytes: 1n << 60n }), V2), INVALID, /memory_limit_in_bytes .* out of range/);
});

test("hugepages", () => {
  const out = buildResources(r({ hugepageLimits: [{ pageSize: "2MB", limit: BigInt(4 * MiB) }, { pageSize: "1GB", limit: 0n }] }), V2);
  assert.deepEqual(out.hugepageLimits, [{ pageSize: "2MB", limit: 4 * MiB }, { pageSize: "1GB", limit: 0 }]);
  throwsCode(() => buildResources(r({ hugepageLimits: [{ pageSize: "2M", limit: 1n }] }), V2), INVALID, /page_size "2M"/);
});

test("unified: cgroup v2 only; refused on v1 and hybrid; keys must be cgroup file names", () => {
  assert.deepEqual(buildResources(r({ unified: { "memory.high": "1G", "cpu.weight": "50" } }), V2).unified, { "cpu.weight": "50", "memory.high": "1G" });
  throwsCode(() => buildResources(r({ unified: { "memory.high": "1G" } }), { cgroupV2: false, swapController: true }), INVALID, /unified settings need cgroup v2/);
  throwsCode(() => buildResources(r({ unified: { "../../etc/x": "1" } }), V2), INVALID, /unified key/);
  assert.deepEqual(buildResources(r({ unified: {} }), { cgroupV2: false, swapController: true }), {});
});

test("pids limit from the daemon's config", () => {
  assert.deepEqual(buildResources(undefined, { ...V2, pidsLimit: 1024 }).pids, { limit: 1024 });
  assert.equal(buildResources(undefined, { ...V2, pidsLimit: 0 }).pids, undefined);
});

test("oom_score_adj: kubelet's value, raised to the daemon's floor, range-checked", () => {
  assert.equal(oomScoreAdj(r({ oomScoreAdj: 1000n }), -999), 1000);
  assert.equal(oomScoreAdj(r({ oomScoreAdj: -997n }), -999), -997);
  assert.equal(oomScoreAdj(r({ oomScoreAdj: -1000n }), -999), -999);
  assert.equal(oomScoreAdj(r({ oomScoreAdj: -998n }), -500), -500);
  assert.equal(oomScoreAdj(undefined, -999), 0);
  assert.equal(oomScoreAdj(undefined, 300), 300);
  throwsCode(() => oomScoreAdj(r({ oomScoreAdj: 1001n }), 0), INVALID, /oom_score_adj 1001/);
});
