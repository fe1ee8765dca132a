// buildSpec end to end: a kubelet-like request gives a config.json runc 1.1.5 accepts, and the
// pieces (process, mounts, namespaces, security, resources, annotations) land where runc reads them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildSpec } from "../../../../src/containers/spec/build.js";
import { DEFAULT_CAPABILITIES, ALL_CAPABILITIES } from "../../../../src/containers/spec/capabilities.js";
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from "../../../../src/containers/spec/masked-paths.js";
import type { OciSpec } from "../../../../src/containers/spec/oci-types.js";
import { runcSpecProblems } from "./runc-shape.js";
import { MountPropagation, NamespaceMode, SecurityProfile_ProfileType } from "../../../../src/generated/runtime/v1/api.js";
import { Code } from "../../../../src/errors.js";
import { input, INVALID, throwsCode } from "./fixtures.js";

/** A request shaped like kubelet's for a plain Deployment container. */
function kubeletLike() {
  return input({
    config: {
      command: ["/bin/sh", "-c"],
      args: ["sleep 3600"],
      workingDir: "/srv",
      envs: [{ key: "MODE", value: Buffer.from("prod") }],
      mounts: [
        { containerPath: "/etc/hosts", hostPath: "/var/lib/kubelet/pods/u/etc-hosts" },
        { containerPath: "/var/run/secrets/kubernetes.io/serviceaccount", hostPath: "/var/lib/kubelet/pods/u/volumes/token", readonly: true },
      ],
      logPath: "app/0.log",
      annotations: { "io.kubernetes.container.hash": "1a2b" },
      linux: {
        resources: { cpuShares: 102n, cpuPeriod: 100000n, cpuQuota: 20000n, memoryLimitInBytes: 134217728n, oomScoreAdj: 1000n },
        securityContext: {
          namespaceOptions: { network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, ipc: NamespaceMode.POD },
          runAsUser: { value: 1000n },
          noNewPrivs: true,
          maskedPaths: [...DEFAULT_MASKED_PATHS],
          readonlyPaths: [...DEFAULT_READONLY_PATHS],
          seccomp: { profileType: SecurityProfile_ProfileType.RuntimeDefault },
          capabilities: { dropCapabilities: ["NET_RAW"] },
        },
      },
    },
    sandbox: { linux: { sysctls: { "net.ipv4.ip_unprivileged_port_start": "0" }, securityContext: { namespaceOptions: { network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, ipc: NamespaceMode.POD } } } },
    user: { uid: 1000, gid: 1000, additionalGids: [1000, 29] },
  });
}

test("a kubelet-like request: process, root, namespaces, mounts, resources, annotations", () => {
  const spec = buildSpec(kubeletLike());
  assert.deepEqual(runcSpecProblems(spec), []);
  assert.equal(spec.ociVersion, "1.0.2-dev");
  const p = spec.process;
  assert.deepEqual(p?.args, ["/bin/sh", "-c", "sleep 3600"]);
  assert.equal(p?.cwd, "/srv");
  assert.equal(p?.terminal, false);
  assert.deepEqual(p?.env, ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=web-0", "MODE=prod"]);
  assert.deepEqual(p?.user, { uid: 1000, gid: 1000, additionalGids: [1000, 29] });
  assert.equal(p?.noNewPrivileges, true);
  assert.equal(p?.oomScoreAdj, 1000);
  assert.equal(p?.apparmorProfile, undefined);
  assert.ok(!p?.capabilities?.bounding?.includes("CAP_NET_RAW"));
  assert.equal(p?.capabilities?.bounding?.length, DEFAULT_CAPABILITIES.length - 1);
  assert.deepEqual(spec.root, { path: "/run/berth/containers/c0ffee/rootfs", readonly: false });
  assert.equal(spec.hostname, undefined, "joins the pod's UTS namespace: no hostname in the spec");

  const l = spec.linux;
  assert.deepEqual(l?.namespaces, [
    { type: "pid" },
    { type: "network", path: "/run/berth/netns/5a4d" },
    { type: "ipc", path: "/run/berth/ipcns/5a4d" },
    { type: "uts", path: "/run/berth/utsns/5a4d" },
    { type: "mount" },
    { type: "cgroup" },
  ]);
  assert.equal(l?.cgroupsPath, "/kubepods/podpod-uid-1/c0ffee");
  assert.deepEqual(l?.resources, {
    devices: [{ allow: false, access: "rwm" }],
    cpu: { shares: 102, quota: 20000, period: 100000 },
    memory: { limit: 134217728, swap: 134217728 },
  });
  assert.deepEqual(l?.sysctl, { "net.ipv4.ip_unprivileged_port_start": "0" });
  assert.deepEqual(l?.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  assert.deepEqual(l?.readonlyPaths, [...DEFAULT_READONLY_PATHS]);
  assert.equal(l?.seccomp?.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(l?.rootfsPropagation, undefined);

  const dests = (spec.mounts ?? []).map((m) => m.destination);
  assert.deepEqual(dests, [
    // defaults first (the default /dev/shm tmpfs gave way to the pod's shm)
    "/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup",
    // then pod files, shm and CRI mounts, shallow before deep (kubelet's /etc/hosts wins)
    "/etc/hostname", "/etc/resolv.conf", "/dev/shm", "/etc/hosts",
    "/var/run/secrets/kubernetes.io/serviceaccount",
  ]);
  assert.equal(spec.mounts?.find((m) => m.destination === "/etc/hosts")?.source, "/var/lib/kubelet/pods/u/etc-hosts");

  assert.equal(spec.annotations?.["io.kubernetes.cri.container-type"], "container");
  assert.equal(spec.annotations?.["io.kubernetes.cri.sandbox-id"], "5a4d");
  assert.equal(spec.annotations?.["io.kubernetes.cri.container-name"], "app");
  assert.equal(spec.annotations?.["io.kubernetes.container.hash"], "1a2b");
});

test("the spec is plain JSON (no bigint) and round-trips unchanged", () => {
  const spec = buildSpec(kubeletLike());
  const text = JSON.stringify(spec);
  assert.deepEqual(JSON.parse(text), spec);
});

test("the spec's fields have the JSON types of `runc spec`'s own config.json", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-runc-spec-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  execFileSync("runc", ["spec", "--bundle", dir], { stdio: ["ignore", "ignore", "pipe"] });
  const reference: unknown = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
  const ours: unknown = JSON.parse(JSON.stringify(buildSpec(kubeletLike())));
  const kind = (v: unknown): string => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);
  const mismatches: string[] = [];
  let compared = 0;
  const walk = (a: unknown, b: unknown, path: string): void => {
    compared++;
    if (kind(a) !== kind(b)) {
      mismatches.push(`${path}: runc has ${kind(a)}, Berth has ${kind(b)}`);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length > 0 && b.length > 0) walk(a[0], b[0], `${path}[0]`);
    } else if (kind(a) === "object") {
      const ao = a as Record<string, unknown>;
      const bo = b as Record<string, unknown>;
      for (const k of Object.keys(ao)) if (k in bo) walk(ao[k], bo[k], `${path}.${k}`);
    }
  };
  walk(reference, ours, "$");
  assert.deepEqual(mismatches, []);
  assert.ok(compared > 30, `compared ${compared} fields`);
  // The sections runc's own spec has are all in ours.
  const ref = reference as Record<string, Record<string, unknown>>;
  for (const k of ["ociVersion", "process", "root", "mounts", "linux"]) assert.ok(k in (ours as object), k);
  for (const k of ["user", "args", "env", "cwd", "capabilities", "noNewPrivileges"]) assert.ok(k in (ours as OciSpec).process!, `process.${k}`);
  for (const k of Object.keys(ref.linux ?? {})) assert.ok(k in (ours as OciSpec).linux!, `linux.${k}`);
});

test("a pod without a pinned UTS namespace: the container gets its own, with the pod's hostname", () => {
  const spec = buildSpec(input({ namespaces: { net: "/run/netns/p" } }));
  assert.equal(spec.hostname, "web-0");
  assert.deepEqual(runcSpecProblems(spec), []);
});

test("host network and IPC: no such namespaces, no hostname, host-namespace sysctls refused", () => {
  const hostPod = { linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE, ipc: NamespaceMode.NODE, pid: NamespaceMode.CONTAINER } } } };
  const spec = buildSpec(input({ sandbox: hostPod, namespaces: {}, podFiles: { shm: "/dev/shm" } }));
  assert.deepEqual(spec.linux?.namespaces?.map((n) => n.type), ["pid", "mount", "cgroup"]);
  assert.equal(spec.hostname, undefined);
  assert.equal(spec.mounts?.find((m) => m.destination === "/dev/shm")?.source, "/dev/shm");
  assert.deepEqual(runcSpecProblems(spec), []);
  throwsCode(
    () => buildSpec(input({ sandbox: { ...hostPod, linux: { ...hostPod.linux, sysctls: { "net.core.somaxconn": "1" } } }, namespaces: {} })),
    INVALID,
    /host network/,
  );
});

test("privileged: all capabilities, host devices, no masks, /sys rw, no seccomp, AppArmor unconfined", () => {
  const spec = buildSpec(
    input({
      sandbox: { linux: { securityContext: { privileged: true } } },
      config: {
        linux: {
          securityContext: {
            privileged: true,
            maskedPaths: [...DEFAULT_MASKED_PATHS],
            seccomp: { profileType: SecurityProfile_ProfileType.RuntimeDefault },
          },
        },
      },
      options: { apparmor: true },
    }),
  );
  assert.deepEqual(spec.process?.capabilities?.bounding, [...ALL_CAPABILITIES]);
  assert.equal(spec.process?.apparmorProfile, "unconfined");
  assert.deepEqual(spec.linux?.maskedPaths, []);
  assert.deepEqual(spec.linux?.readonlyPaths, []);
  assert.equal(spec.linux?.seccomp, undefined);
  assert.ok(spec.mounts?.find((m) => m.destination === "/sys")?.options?.includes("rw"));
  assert.ok(spec.mounts?.find((m) => m.destination === "/sys/fs/cgroup")?.options?.includes("rw"));
  assert.ok(spec.linux?.devices?.some((d) => d.path === "/dev/sda"));
  assert.deepEqual(spec.linux?.resources?.devices, [{ allow: false, access: "rwm" }, { allow: true, access: "rwm" }]);
  assert.ok(!spec.linux?.namespaces?.some((n) => n.type === "cgroup"), "privileged keeps the host cgroup namespace");
  assert.deepEqual(runcSpecProblems(spec), []);
});

test("a privileged container needs a privileged pod", () => {
  throwsCode(() => buildSpec(input({ config: { linux: { securityContext: { privileged: true } } } })), INVALID, /pod sandbox is not privileged/);
});

test("readonly rootfs, tty, AppArmor default, seccomp caps follow added capabilities", () => {
  const spec = buildSpec(
    input({
      config: {
        tty: true,
        linux: { securityContext: { readonlyRootfs: true, capabilities: { addCapabilities: ["SYS_ADMIN"] }, seccomp: { profileType: SecurityProfile_ProfileType.RuntimeDefault } } },
      },
      options: { apparmor: true },
    }),
  );
  assert.equal(spec.root?.readonly, true);
  assert.equal(spec.process?.terminal, true);
  assert.equal(spec.process?.apparmorProfile, "berth-default");
  assert.deepEqual(spec.mounts?.find((m) => m.destination === "/etc/hosts")?.options, ["rbind", "rprivate", "ro"]);
  const allowed = (spec.linux?.seccomp?.syscalls ?? []).filter((s) => s.action === "SCMP_ACT_ALLOW" && !s.args).flatMap((s) => s.names);
  assert.ok(allowed.includes("mount"), "CAP_SYS_ADMIN opens mount in the RuntimeDefault profile");
});

test("seccomp unset follows the daemon option", () => {
  assert.equal(buildSpec(input()).linux?.seccomp, undefined);
  assert.equal(buildSpec(input({ options: { seccompWhenUnset: "runtime-default" } })).linux?.seccomp?.defaultAction, "SCMP_ACT_ERRNO");
});

test("CRI mounts with propagation set the root propagation; devices and device ownership", () => {
  const spec = buildSpec(
    input({
      config: {
        mounts: [{ containerPath: "/mnt/shared", hostPath: "/mnt/shared", propagation: MountPropagation.PROPAGATION_BIDIRECTIONAL }],
        devices: [{ hostPath: "/dev/fuse", containerPath: "/dev/fuse", permissions: "rwm" }],
      },
      user: { uid: 1000, gid: 2000, additionalGids: [2000] },
      options: { deviceOwnershipFromSecurityContext: true },
    }),
  );
  assert.equal(spec.linux?.rootfsPropagation, "rshared");
  assert.deepEqual(spec.linux?.devices, [{ type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 1000, gid: 2000 }]);
  assert.deepEqual(runcSpecProblems(spec), []);
});

test("user namespace pods: mappings, user namespace, and Unmasked when kubelet sends empty lists", () => {
  const userns = { mode: NamespaceMode.POD, uids: [{ hostId: 100000, containerId: 0, length: 65536 }], gids: [{ hostId: 100000, containerId: 0, length: 65536 }] };
  const spec = buildSpec(
    input({
      sandbox: { linux: { securityContext: { namespaceOptions: { network: NamespaceMode.POD, ipc: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, usernsOptions: userns } } } },
      config: { linux: { securityContext: { maskedPaths: [], readonlyPaths: [] } } },
      options: { userNamespaces: true },
    }),
  );
  assert.deepEqual(spec.linux?.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  assert.ok(spec.linux?.namespaces?.some((n) => n.type === "user"));
  assert.deepEqual(spec.linux?.maskedPaths, []);
  assert.deepEqual(runcSpecProblems(spec), []);
});

test("refusals: unresolved CDI devices, unified on cgroup v1, empty ids, relative rootfs, bad user ids", () => {
  throwsCode(() => buildSpec(input({ config: { CDIDevices: [{ name: "vendor.com/gpu=0" }] } })), Code.INTERNAL, /CDI_devices were not resolved/);
  throwsCode(() => buildSpec(input({ config: { linux: { resources: { unified: { "memory.high": "1G" } } } }, options: { cgroupMode: "hybrid" } })), INVALID, /need cgroup v2/);
  throwsCode(() => buildSpec(input({ containerId: "" })), INVALID, /id must not be empty/);
  throwsCode(() => buildSpec(input({ rootfs: "rootfs" })), INVALID, /rootfs "rootfs" must be an absolute path/);
  throwsCode(() => buildSpec(input({ user: { uid: -1, gid: 0, additionalGids: [] } })), INVALID, /user uid -1/);
  throwsCode(() => buildSpec(input({ cgroupsPath: "" })), INVALID, /cgroups path/);
});

test("options pass through: oom floor, pids limit, rlimits, image working dir and volumes", () => {
  const spec = buildSpec(
    input({
      image: { Entrypoint: ["/init"], Cmd: ["--serve"], WorkingDir: "/app", Volumes: { "/data": {} } },
      imageVolumes: { "/data": "/var/lib/berth/volumes/c0ffee/data" },
      config: { linux: { resources: { oomScoreAdj: -1000n } } },
      options: { oomScoreAdjFloor: -500, pidsLimit: 4096, rlimits: [{ type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 }] },
    }),
  );
  assert.deepEqual(spec.process?.args, ["/init", "--serve"]);
  assert.equal(spec.process?.cwd, "/app");
  assert.equal(spec.process?.oomScoreAdj, -500);
  assert.deepEqual(spec.process?.rlimits, [{ type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 }]);
  assert.deepEqual(spec.linux?.resources?.pids, { limit: 4096 });
  assert.equal(spec.mounts?.find((m) => m.destination === "/data")?.source, "/var/lib/berth/volumes/c0ffee/data");
});
