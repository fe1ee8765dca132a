// Builders for spec tests: CRI messages from partial objects and a complete SpecInput for a
// busybox-like container in a pod with pinned namespaces, each overridable per test.
import { BerthError, Code } from "../../../../src/errors.js";
import {
  ContainerConfig,
  NamespaceMode,
  PodSandboxConfig,
  type DeepPartial,
} from "../../../../src/generated/runtime/v1/api.js";
import type { HostDevice, ImageConfig, SpecInput, SpecOptions } from "../../../../src/containers/spec/input.js";

export function ctr(p: DeepPartial<ContainerConfig> = {}): ContainerConfig {
  return ContainerConfig.fromPartial({ metadata: { name: "app", attempt: 0 }, image: { image: "busybox:1.36" }, ...p });
}

export function pod(p: DeepPartial<PodSandboxConfig> = {}): PodSandboxConfig {
  return PodSandboxConfig.fromPartial({
    metadata: { name: "web-0", namespace: "default", uid: "pod-uid-1", attempt: 0 },
    hostname: "web-0",
    linux: { securityContext: { namespaceOptions: { network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, ipc: NamespaceMode.POD } } },
    ...p,
  });
}

export const IMAGE: ImageConfig = {
  Cmd: ["sh"],
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
};

export const NULL_DEV: HostDevice = { path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o20666, uid: 0, gid: 0 };
export const FUSE_DEV: HostDevice = { path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 };
export const SND_DEVS: HostDevice[] = [
  { path: "/dev/snd/controlC0", type: "c", major: 116, minor: 0, fileMode: 0o660, uid: 0, gid: 29 },
  { path: "/dev/snd/pcmC0D0p", type: "c", major: 116, minor: 16, fileMode: 0o660, uid: 0, gid: 29 },
];
export const SDA_DEV: HostDevice = { path: "/dev/sda", type: "b", major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 };

const HOST_DEVICES: Record<string, HostDevice[]> = {
  "/dev/null": [NULL_DEV],
  "/dev/fuse": [FUSE_DEV],
  "/dev/snd": SND_DEVS,
  "/dev/sda": [SDA_DEV],
};

export function options(p: Partial<SpecOptions> = {}): SpecOptions {
  return {
    cgroupMode: "v2",
    swapController: true,
    hostDevices: [NULL_DEV, FUSE_DEV, SDA_DEV, ...SND_DEVS],
    apparmor: false,
    oomScoreAdjFloor: -999,
    recursiveReadOnlyMounts: true,
    arch: "x64",
    ...p,
  };
}

export interface InputOverrides extends Partial<Omit<SpecInput, "config" | "sandboxConfig" | "options">> {
  config?: DeepPartial<ContainerConfig>;
  sandbox?: DeepPartial<PodSandboxConfig>;
  options?: Partial<SpecOptions>;
}

export function input(o: InputOverrides = {}): SpecInput {
  const { config, sandbox, options: opts, ...rest } = o;
  return {
    containerId: "c0ffee",
    sandboxId: "5a4d",
    config: ctr(config),
    sandboxConfig: pod(sandbox),
    image: IMAGE,
    imageName: "docker.io/library/busybox:1.36",
    rootfs: "/run/berth/containers/c0ffee/rootfs",
    namespaces: { net: "/run/berth/netns/5a4d", ipc: "/run/berth/ipcns/5a4d", uts: "/run/berth/utsns/5a4d" },
    podFiles: {
      hostname: "/run/berth/pods/5a4d/hostname",
      hosts: "/run/berth/pods/5a4d/hosts",
      resolvConf: "/run/berth/pods/5a4d/resolv.conf",
      shm: "/run/berth/pods/5a4d/shm",
    },
    hostname: "web-0",
    cgroupsPath: "/kubepods/podpod-uid-1/c0ffee",
    user: { uid: 0, gid: 0, additionalGids: [0] },
    lookupDevice: (p) => HOST_DEVICES[p],
    readProfile: (p) => {
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: "ENOENT" });
    },
    options: options(opts),
    ...rest,
  };
}

/** Asserts `fn` throws a BerthError with `code` whose message matches `re`. */
export function throwsCode(fn: () => unknown, code: Code, re: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  if (!(caught instanceof BerthError)) throw new Error(`expected a BerthError, got ${String(caught)}`);
  if (caught.code !== code) throw new Error(`expected code ${code}, got ${caught.code}: ${caught.message}`);
  if (!re.test(caught.message)) throw new Error(`message ${JSON.stringify(caught.message)} does not match ${re}`);
}

export const INVALID = Code.INVALID_ARGUMENT;
