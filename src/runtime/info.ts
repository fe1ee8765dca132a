// Runtime-wide answers: Version, Status (RuntimeReady, NetworkReady), RuntimeConfig and the
// pod CIDR from UpdateRuntimeConfig. Readiness comes from the drivers through small probes.
import { BERTH_VERSION, CRI_API_VERSION, RUNTIME_NAME } from "../version.js";
import type { CgroupDriverName, CgroupMode } from "../oci/cgroups.js";
import type { ProbedHandler } from "../oci/handlers.js";
import { which } from "../util/which.js";

export interface Condition {
  type: "RuntimeReady" | "NetworkReady";
  status: boolean;
  reason: string;
  message: string;
}

/** Anything that can say whether the pod network is usable (the CNI driver). */
export interface NetworkProbe {
  status(): Promise<{ ready: true } | { ready: false; reason: string; message: string }>;
}

export interface RuntimeHandlerView {
  name: string;
  features: { recursiveReadOnlyMounts: boolean; userNamespaces: boolean };
}

/** What the daemon hands RuntimeInfo: the host probe's cgroup answers and the runtime keys it reports on. */
export interface RuntimeInfoDeps {
  cgroupDriver: CgroupDriverName;
  cgroupMode: CgroupMode;
  runcPath: string;
  conmonPath: string;
  defaultHandler: string;
  /** The effective configuration as Status verbose shows it (podCidr is added to it). */
  effectiveConfig: Record<string, unknown>;
}

export class RuntimeInfo {
  readonly cgroupDriver: CgroupDriverName;
  readonly cgroupMode: CgroupMode;
  private podCidr = "";

  constructor(
    private readonly deps: RuntimeInfoDeps,
    private readonly network: NetworkProbe,
    /** The handlers' start-up probe (Status waits for it the first time). */
    private readonly probed: Promise<readonly ProbedHandler[]> = Promise.resolve([]),
  ) {
    this.cgroupDriver = deps.cgroupDriver;
    this.cgroupMode = deps.cgroupMode;
  }

  version() {
    return { version: "0.1.0" /* the CRI wire version kubelet expects here */, runtimeName: RUNTIME_NAME, runtimeVersion: BERTH_VERSION, runtimeApiVersion: CRI_API_VERSION };
  }

  async conditions(): Promise<Condition[]> {
    const missing = [this.deps.runcPath, this.deps.conmonPath].filter((b) => !which(b));
    const def = (await this.probed).find((h) => h.spec.name === this.deps.defaultHandler);
    const runtime: Condition = missing.length
      ? { type: "RuntimeReady", status: false, reason: "RuntimeBinaryMissing", message: `not found: ${missing.join(", ")}; install them (scripts/setup.sh) or set runtime.runc_path / runtime.conmon_path` }
      : def && !def.usable
        ? { type: "RuntimeReady", status: false, reason: "RuntimeHandlerUnusable", message: `the default runtime handler "${def.spec.name}" failed its start-up probe: ${def.reason}` }
        : { type: "RuntimeReady", status: true, reason: "", message: "" };
    const n = await this.network.status();
    const network: Condition = n.ready
      ? { type: "NetworkReady", status: true, reason: "", message: "" }
      : { type: "NetworkReady", status: false, reason: n.reason, message: n.message };
    return [runtime, network];
  }

  /**
   * Status `runtime_handlers`: the default handler under the name "" (kubelet's RuntimeClass-less
   * pods), then every handler whose probe passed, with the features that probe saw.
   */
  async runtimeHandlers(): Promise<RuntimeHandlerView[]> {
    const usable = (await this.probed).filter((h) => h.usable);
    const def = usable.find((h) => h.spec.name === this.deps.defaultHandler);
    const view = (name: string, h: ProbedHandler): RuntimeHandlerView => ({ name, features: { ...h.features } });
    return [...(def ? [view("", def)] : []), ...usable.map((h) => view(h.spec.name, h))];
  }

  /**
   * Status `features`: Strict supplemental groups are implemented (only the requested groups,
   * none from the image's /etc/group; the effective ones in ContainerStatus.user); user
   * namespaces, with host network or not, are not yet.
   */
  features(): { supplementalGroupsPolicy: boolean; userNamespacesHostNetwork: boolean } {
    return { supplementalGroupsPolicy: true, userNamespacesHostNetwork: false };
  }

  /** The effective configuration and host facts, for Status verbose. */
  async verboseInfo(): Promise<Record<string, string>> {
    const handlers = await this.probed;
    return {
      config: JSON.stringify({ ...this.deps.effectiveConfig, podCidr: this.podCidr }),
      cgroup: JSON.stringify({ driver: this.cgroupDriver, mode: this.cgroupMode }),
      // Not "runtimeHandlers": crictl info prints the response field of that name beside these keys.
      handlerProbes: JSON.stringify(
        handlers.map((h) => ({ name: h.spec.name, path: h.path, version: h.version, root: h.spec.runtimeRoot, options: h.spec.options, usable: h.usable, reason: h.reason, features: h.features })),
      ),
    };
  }

  setPodCidr(cidr: string): void {
    this.podCidr = cidr;
  }

  getPodCidr(): string {
    return this.podCidr;
  }
}
