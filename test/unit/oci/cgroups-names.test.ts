// Pod cgroup naming per driver, as kubelet names them: cgroupfs paths and systemd slices
// (dashes nest), with bad parents refused as InvalidArgument.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkCgroupfsPath, podCgroup, slicePath } from "../../../src/oci/cgroups-names.js";
import { type BerthError, Code } from "../../../src/errors.js";

const invalid = (re: RegExp) => (e: BerthError) => e.code === Code.INVALID_ARGUMENT && re.test(e.message);

test("systemd slice names expand into nested slice paths", () => {
  assert.equal(slicePath("kubepods.slice"), "/kubepods.slice");
  assert.equal(slicePath("kubepods-burstable-pod12_34.slice"), "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice");
  assert.equal(slicePath("-.slice"), "/");
  assert.throws(() => slicePath("/kubepods"), invalid(/not a systemd slice name/));
  assert.throws(() => slicePath("a--b.slice"), invalid(/must not start or end with "-" or contain "--"/));
  assert.throws(() => slicePath("-a.slice"), invalid(/must not start/));
});

test("cgroupfs paths are absolute and clean; a slice or an escape is refused", () => {
  assert.equal(checkCgroupfsPath("/kubepods//burstable/pod1/", "p"), "/kubepods/burstable/pod1");
  assert.throws(() => checkCgroupfsPath("kubepods", "p"), invalid(/absolute/));
  assert.throws(() => checkCgroupfsPath("/a/../b", "p"), invalid(/segment "\.\."/));
  assert.throws(() => checkCgroupfsPath("/a/b c", "p"), invalid(/segment "b c"/));
  assert.throws(() => checkCgroupfsPath("kubepods-pod1.slice", "p"), invalid(/systemd slice but the cgroup driver is cgroupfs/));
});

test("the pod cgroup is kubelet's cgroup_parent, or pod<uid> under the default parent", () => {
  assert.deepEqual(podCgroup("cgroupfs", "/kubepods/besteffort/pod1", "", "1"), { driver: "cgroupfs", name: "/kubepods/besteffort/pod1", path: "/kubepods/besteffort/pod1" });
  assert.deepEqual(podCgroup("cgroupfs", "", "", "ab-12"), { driver: "cgroupfs", name: "/berth/podab-12", path: "/berth/podab-12" });
  assert.deepEqual(podCgroup("cgroupfs", "", "/", "x"), { driver: "cgroupfs", name: "/podx", path: "/podx" });
  assert.deepEqual(podCgroup("systemd", "kubepods-pod1.slice", "", "1"), { driver: "systemd", name: "kubepods-pod1.slice", path: "/kubepods.slice/kubepods-pod1.slice" });
  assert.deepEqual(podCgroup("systemd", "", "", "ab-12.3"), { driver: "systemd", name: "berth-podab_12_3.slice", path: "/berth.slice/berth-podab_12_3.slice" });
  assert.deepEqual(podCgroup("systemd", "", "-.slice", "u"), { driver: "systemd", name: "podu.slice", path: "/podu.slice" });
  assert.throws(() => podCgroup("cgroupfs", "", "", "../x"), invalid(/metadata\.uid/));
  assert.throws(() => podCgroup("systemd", "", "/berth", "u"), invalid(/pods\.cgroup_parent "\/berth" is not a systemd slice/));
});
