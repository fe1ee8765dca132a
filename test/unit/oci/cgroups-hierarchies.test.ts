// Finding cgroup hierarchies in mountinfo: v1 controllers (incl. named ones), the v2 mount,
// duplicates and sub-tree mounts skipped; and the host's own list is usable.
import assert from "node:assert/strict";
import { test } from "node:test";
import { cgroupHierarchies, parseCgroupMounts } from "../../../src/oci/cgroups-hierarchies.js";

const HYBRID = `
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 24 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
32 31 0:28 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:29 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
35 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
36 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
37 31 0:32 / /mnt/memory\\040again rw,relatime shared:14 - cgroup cgroup rw,memory
38 31 0:33 /sub /sys/fs/cgroup/pids rw,relatime shared:15 - cgroup cgroup rw,pids
`;

test("a hybrid host: v2 unified, name=systemd and v1 controllers, each hierarchy once", () => {
  assert.deepEqual(parseCgroupMounts(HYBRID), [
    { kind: "v2", mount: "/sys/fs/cgroup/unified", controllers: [] },
    { kind: "v1", mount: "/sys/fs/cgroup/systemd", controllers: ["name=systemd"] },
    { kind: "v1", mount: "/sys/fs/cgroup/cpu,cpuacct", controllers: ["cpu", "cpuacct"] },
    { kind: "v1", mount: "/sys/fs/cgroup/memory", controllers: ["memory"] },
  ]);
});

test("a pure v2 host has one hierarchy", () => {
  const v2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
  assert.deepEqual(parseCgroupMounts(v2), [{ kind: "v2", mount: "/sys/fs/cgroup", controllers: [] }]);
});

test("this host's hierarchies include memory", async () => {
  const hs = await cgroupHierarchies();
  assert.ok(hs.length > 0);
  assert.ok(hs.some((h) => h.controllers.includes("memory") || h.kind === "v2"));
});
