// What the container service hands to buildSpec: the CRI request, the image config and the
// facts only the caller can learn from the host (paths, devices, runtime features).
import type { ContainerConfig, PodSandboxConfig } from "../../generated/runtime/v1/api.js";
import type { CdiInjection } from "../cdi/types.js";
import type { OciDeviceType, OciRlimit } from "./oci-types.js";
import type { SeccompTemplate } from "./seccomp-profile.js";

/** The `config` part of an OCI image config, with the image JSON's own field names. */
export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  /** Used by StopContainer, not by the spec. */
  StopSignal?: string;
  /** Keys are container paths; values are empty objects in image JSON. */
  Volumes?: Record<string, unknown> | null;
}

/**
 * The pod's pinned namespaces. A missing entry means "make a new one" for the container;
 * host namespaces (NamespaceOption NODE) are read from the CRI config and get no entry at all.
 */
export interface PodNamespacePaths {
  net?: string;
  ipc?: string;
  uts?: string;
  pid?: string;
  /** Only used when the pod asks for a user namespace (usernsOptions mode POD). */
  user?: string;
}

/** Host files bind-mounted over the container's; a missing one is not mounted. */
export interface PodFileMounts {
  hostname?: string;
  hosts?: string;
  resolvConf?: string;
  /** The pod's shm tmpfs (or the host's /dev/shm for host IPC); missing keeps a private /dev/shm tmpfs. */
  shm?: string;
}

/** The result of resolveUser. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  username?: string;
}

/** A device node on the host, as the caller stat()ed it. */
export interface HostDevice {
  /** Absolute host path of the node. */
  path: string;
  type: OciDeviceType;
  major: number;
  minor: number;
  /** Permission bits (mode & 0o7777). */
  fileMode: number;
  uid: number;
  gid: number;
}

/**
 * Finds the device nodes at a host path: one for a node, all nodes below it for a directory
 * (as containerd does for /dev/snd), undefined when the path does not exist or is not a device.
 */
export type DeviceLookup = (hostPath: string) => HostDevice[] | undefined;

/** How a host mount point propagates; the caller reads it from /proc/self/mountinfo. */
export type HostPropagation = "shared" | "slave" | "private";
export type PropagationLookup = (hostPath: string) => HostPropagation | undefined;

export interface SpecOptions {
  /** Only a pure cgroup v2 host ("v2") takes `unified`; "v1" and "hybrid" refuse it. */
  cgroupMode: "v1" | "v2" | "hybrid";
  /** The memory+swap controller exists (v2, or v1 with swapaccount=1); without it swap is not set. */
  swapController: boolean;
  /** Every device node on the host, given to privileged containers. */
  hostDevices: readonly HostDevice[];
  /** Capabilities of an unprivileged container before add/drop; default DEFAULT_CAPABILITIES. */
  defaultCapabilities?: readonly string[];
  /** Capabilities the runtime knows (runc features); default ALL_CAPABILITIES. */
  allCapabilities?: readonly string[];
  /** The daemon's bounding set (HostFacts): privileged and "ALL" get it; default allCapabilities. */
  hostCapabilities?: readonly string[];
  /** The RuntimeDefault seccomp profile; default the built-in one. */
  seccompDefault?: SeccompTemplate;
  /** What an absent seccomp field means: containerd's "unconfined" (the default) or "runtime-default". */
  seccompWhenUnset?: "unconfined" | "runtime-default";
  /** AppArmor is enabled on the host and Berth's default profile is loaded. */
  apparmor: boolean;
  /** Name of the loaded default AppArmor profile; default "berth-default". */
  apparmorDefaultProfile?: string;
  /** The daemon's own oom_score_adj: a container is never made less likely to be killed than it. */
  oomScoreAdjFloor: number;
  /** pids.max for every container, when configured. */
  pidsLimit?: number;
  /** The runtime takes `rro` (runc features lists it and the kernel is >= 5.12). */
  recursiveReadOnlyMounts: boolean;
  /** The node runs pods with user namespaces (hostUsers: false). Off: such requests are refused. */
  userNamespaces?: boolean;
  /** Give devices the container's uid/gid (containerd's device_ownership_from_security_context). */
  deviceOwnershipFromSecurityContext?: boolean;
  /** Node's process.arch; picks the seccomp architectures. Default process.arch. */
  arch?: string;
  /** Kernel release (e.g. "6.1.0"), for seccomp rules with minKernel; unknown keeps those rules. */
  kernelVersion?: string;
  /** rlimits for every container; absent means inherit from the runtime (conmon). */
  rlimits?: readonly OciRlimit[];
}

export interface SpecInput {
  containerId: string;
  sandboxId: string;
  config: ContainerConfig;
  sandboxConfig: PodSandboxConfig;
  image: ImageConfig;
  /** The image name recorded in annotations (what the user asked for, else the resolved ref). */
  imageName: string;
  /** Absolute path of the mounted root filesystem. */
  rootfs: string;
  namespaces: PodNamespacePaths;
  /** /proc/<pid>/ns/pid of the target container, for pid NamespaceMode TARGET. */
  targetPidNamespace?: string;
  podFiles: PodFileMounts;
  /** The pod's host name: HOSTNAME in the env, and the UTS name when the container gets its own. */
  hostname: string;
  /** Built by the caller for the cgroup driver in use. */
  cgroupsPath: string;
  user: ResolvedUser;
  /** Host dirs the caller made for the image's volumes (container path → host dir); see imageVolumePaths. */
  imageVolumes?: Readonly<Record<string, string>>;
  /** Extra annotations (the caller's own); Berth's reserved keys still win. */
  annotations?: Readonly<Record<string, string>>;
  lookupDevice: DeviceLookup;
  /** CDI edits resolved for the container's CDI_devices (and cdi.k8s.io/ annotations), applied last. */
  cdi?: CdiInjection | undefined;
  /** When given, Bidirectional and HostToContainer mounts are checked as containerd does. */
  lookupPropagation?: PropagationLookup;
  /** Reads a Localhost seccomp profile (absolute host path); may throw. */
  readProfile: (path: string) => string;
  options: SpecOptions;
}
