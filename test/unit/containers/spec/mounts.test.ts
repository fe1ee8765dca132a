// Default mounts, pod file binds, CRI mounts with propagation and (recursive) read-only, image volumes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildMounts, defaultMounts, imageVolumePaths, type MountInput } from "../../../../src/containers/spec/mounts.js";
import type { OciMount } from "../../../../src/containers/spec/oci-types.js";
import { Code } from "../../../../src/errors.js";
import { Mount, MountPropagation, type DeepPartial } from "../../../../src/generated/runtime/v1/api.js";
import { INVALID, throwsCode } from "./fixtures.js";

const POD_FILES = { hostname: "/pod/hostname", hosts: "/pod/hosts", resolvConf: "/pod/resolv.conf", shm: "/pod/shm" };

function mnt(p: DeepPartial<Mount>): Mount {
  return Mount.fromPartial(p);
}

function plan(over: Partial<MountInput> = {}) {
  return buildMounts({
    criMounts: [],
    podFiles: POD_FILES,
    image: {},
    imageVolumes: {},
    privileged: false,
    readonlyRootfs: false,
    recursiveReadOnlyMounts: true,
    ...over,
  });
}

const at = (ms: OciMount[], dest: string): OciMount | undefined => ms.find((m) => m.destination === dest);

test("defaults: proc, dev, devpts, shm, mqueue, sysfs and cgroup read-only; rw when privileged (sysfs: unless the rootfs is read-only)", () => {
  const d = defaultMounts(false);
  assert.deepEqual(d.map((m) => m.destination), ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"]);
  assert.ok(at(d, "/sys")?.options?.includes("ro"));
  assert.ok(at(d, "/sys/fs/cgroup")?.options?.includes("ro"));
  assert.equal(at(d, "/dev")?.type, "tmpfs");
  const p = defaultMounts(true);
  assert.ok(at(p, "/sys")?.options?.includes("rw") && !at(p, "/sys")?.options?.includes("ro"));
  assert.ok(at(p, "/sys/fs/cgroup")?.options?.includes("rw"));
  // A read-only rootfs keeps sysfs read-only even when privileged.
  const pro = defaultMounts(true, true);
  assert.ok(at(pro, "/sys")?.options?.includes("ro"));
  assert.ok(at(pro, "/sys/fs/cgroup")?.options?.includes("rw"));
});

test("pod files and shm are bind-mounted; read-only with a read-only rootfs; shm stays rw", () => {
  const { mounts, rootfsPropagation } = plan();
  assert.equal(rootfsPropagation, undefined);
  assert.deepEqual(at(mounts, "/etc/hosts"), { destination: "/etc/hosts", type: "bind", source: "/pod/hosts", options: ["rbind", "rprivate", "rw"] });
  assert.equal(at(mounts, "/etc/hostname")?.source, "/pod/hostname");
  assert.equal(at(mounts, "/etc/resolv.conf")?.source, "/pod/resolv.conf");
  // The pod's shm replaces the default tmpfs at /dev/shm.
  assert.deepEqual(mounts.filter((m) => m.destination === "/dev/shm"), [{ destination: "/dev/shm", type: "bind", source: "/pod/shm", options: ["rbind", "rprivate", "rw"] }]);
  const ro = plan({ readonlyRootfs: true }).mounts;
  assert.deepEqual(at(ro, "/etc/resolv.conf")?.options, ["rbind", "rprivate", "ro"]);
  assert.deepEqual(at(ro, "/dev/shm")?.options, ["rbind", "rprivate", "rw"]);
  // Missing pod files are simply not mounted; the default /dev/shm tmpfs stays.
  const none = plan({ podFiles: {} }).mounts;
  assert.equal(at(none, "/etc/hosts"), undefined);
  assert.equal(at(none, "/dev/shm")?.type, "tmpfs");
});

test("CRI mounts: bind options per propagation and read-only; root propagation follows", () => {
  const criMounts = [
    mnt({ containerPath: "/data", hostPath: "/var/data", propagation: MountPropagation.PROPAGATION_PRIVATE }),
    mnt({ containerPath: "/cfg", hostPath: "/etc/app/", readonly: true }),
    mnt({ containerPath: "/slave", hostPath: "/mnt/s", propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER }),
  ];
  const p = plan({ criMounts });
  assert.deepEqual(at(p.mounts, "/data")?.options, ["rbind", "rprivate", "rw"]);
  assert.deepEqual(at(p.mounts, "/cfg"), { destination: "/cfg", type: "bind", source: "/etc/app", options: ["rbind", "rprivate", "ro"] });
  assert.deepEqual(at(p.mounts, "/slave")?.options, ["rbind", "rslave", "rw"]);
  assert.equal(p.rootfsPropagation, "rslave");
  const shared = plan({ criMounts: [...criMounts, mnt({ containerPath: "/shared", hostPath: "/mnt/sh", propagation: MountPropagation.PROPAGATION_BIDIRECTIONAL })] });
  assert.deepEqual(at(shared.mounts, "/shared")?.options, ["rbind", "rshared", "rw"]);
  assert.equal(shared.rootfsPropagation, "rshared");
});

test("propagation checks against the host mount, when the caller can look it up", () => {
  const bidi = [mnt({ containerPath: "/s", hostPath: "/mnt/s", propagation: MountPropagation.PROPAGATION_BIDIRECTIONAL })];
  const h2c = [mnt({ containerPath: "/s", hostPath: "/mnt/s", propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER })];
  throwsCode(() => plan({ criMounts: bidi, lookupPropagation: () => "slave" }), Code.FAILED_PRECONDITION, /host path \/mnt\/s is on a slave mount.*make it shared/);
  throwsCode(() => plan({ criMounts: h2c, lookupPropagation: () => "private" }), Code.FAILED_PRECONDITION, /private mount/);
  assert.equal(plan({ criMounts: bidi, lookupPropagation: () => "shared" }).rootfsPropagation, "rshared");
  assert.equal(plan({ criMounts: h2c, lookupPropagation: () => "slave" }).rootfsPropagation, "rslave");
});

test("recursive read-only: rro when the runtime has it; the CRI's preconditions; refused otherwise", () => {
  const rro = mnt({ containerPath: "/ro", hostPath: "/srv", readonly: true, recursiveReadOnly: true });
  assert.deepEqual(at(plan({ criMounts: [rro] }).mounts, "/ro")?.options, ["rbind", "rprivate", "ro", "rro"]);
  throwsCode(() => plan({ criMounts: [rro], recursiveReadOnlyMounts: false }), INVALID, /mounts\[0\]: recursive read-only mounts are not available on this node/);
  throwsCode(() => plan({ criMounts: [mnt({ ...rro, readonly: false })] }), INVALID, /needs readonly/);
  throwsCode(
    () => plan({ criMounts: [mnt({ ...rro, propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER })] }),
    INVALID,
    /needs PROPAGATION_PRIVATE/,
  );
});

test("CRI mounts over pod files and /dev win; parents mount before children", () => {
  const p = plan({
    criMounts: [
      mnt({ containerPath: "/var/lib/app/cache", hostPath: "/c" }),
      mnt({ containerPath: "/etc/hosts", hostPath: "/kubelet/etc-hosts" }),
      mnt({ containerPath: "/var/lib", hostPath: "/l" }),
      mnt({ containerPath: "/dev", hostPath: "/hostdev" }),
    ],
  });
  assert.deepEqual(p.mounts.filter((m) => m.destination === "/etc/hosts").map((m) => m.source), ["/kubelet/etc-hosts"]);
  // A CRI /dev replaces every default under /dev (tmpfs, pts, shm tmpfs, mqueue).
  assert.deepEqual(p.mounts.filter((m) => m.destination.startsWith("/dev") && m.type !== "bind"), []);
  const order = p.mounts.map((m) => m.destination);
  assert.ok(order.indexOf("/var/lib") < order.indexOf("/var/lib/app/cache"));
  assert.ok(order.indexOf("/dev") < order.indexOf("/dev/shm"));
  assert.deepEqual(order.slice(0, 3), ["/proc", "/sys", "/sys/fs/cgroup"]);
});

test("bad CRI mounts are INVALID_ARGUMENT naming the mount", () => {
  throwsCode(() => plan({ criMounts: [mnt({ containerPath: "data", hostPath: "/x" })] }), INVALID, /mounts\[0\]\.container_path "data" must be an absolute path/);
  throwsCode(() => plan({ criMounts: [mnt({ containerPath: "/x", hostPath: "rel" })] }), INVALID, /mounts\[0\]\.host_path/);
  throwsCode(() => plan({ criMounts: [mnt({ containerPath: "/", hostPath: "/x" })] }), INVALID, /would hide/);
  throwsCode(() => plan({ criMounts: [mnt({ containerPath: "/x", hostPath: "/x", propagation: MountPropagation.UNRECOGNIZED })] }), INVALID, /propagation/);
  throwsCode(() => plan({ criMounts: [mnt({ containerPath: "/x", hostPath: "/x", uidMappings: [{ hostId: 1, containerId: 0, length: 1 }] })] }), INVALID, /ID-mapped/);
  throwsCode(() => plan({ criMounts: [mnt({ containerPath: "/x", image: { image: "busybox" } })] }), INVALID, /image volume mounts/);
});

test("image volumes: bound from the caller's dirs, skipped without one, covered ones left to CRI", () => {
  const image = { Volumes: { "/data": {}, "/var/log/": {}, "/cache": {} } };
  const criMounts = [mnt({ containerPath: "/cache", hostPath: "/host/cache" })];
  assert.deepEqual(imageVolumePaths(image, criMounts), ["/data", "/var/log"]);
  const p = plan({ image, criMounts, imageVolumes: { "/data": "/vols/1" } });
  assert.deepEqual(at(p.mounts, "/data"), { destination: "/data", type: "bind", source: "/vols/1", options: ["rbind", "rprivate", "rw"] });
  assert.equal(at(p.mounts, "/var/log"), undefined);
  assert.equal(at(p.mounts, "/cache")?.source, "/host/cache");
});

test("image volumes at / or relative are refused (CVE-2022-23648)", () => {
  throwsCode(() => imageVolumePaths({ Volumes: { "/": {} } }, []), INVALID, /cover the whole root/);
  throwsCode(() => imageVolumePaths({ Volumes: { "/a/..": {} } }, []), INVALID, /cover the whole root/);
  throwsCode(() => imageVolumePaths({ Volumes: { "": {} } }, []), INVALID, /must be an absolute path/);
  throwsCode(() => imageVolumePaths({ Volumes: { "data": {} } }, []), INVALID, /Volumes entry "data"/);
});
