// What every pod RPC shares: the drivers, the directories, the in-memory index (persisted on
// each change), per-pod locks, and the hooks the container service plugs in.
import type { ContainerEventResponse, ContainerStatus } from "../generated/runtime/v1/api.js";
import type { Publisher } from "../util/fanout.js";
import type { PodCgroupDriver } from "../oci/cgroups-driver.js";
import type { AttachResult, PodNetwork } from "../network/cni/network.js";
import type { PodRef } from "../network/cni/runtime-args.js";
import { notFound } from "../errors.js";
import { resolveId } from "../util/ids.js";
import { KeyedMutex } from "../util/lock.js";
import { isVisible, type Pod } from "./record.js";
import type { PodStore } from "./store.js";

/** The part of CniNetwork pods use. */
export interface PodNetworkDriver {
  setUp(pod: PodNetwork): Promise<AttachResult>;
  tearDown(pod: PodRef & { netns?: string }): Promise<void>;
}

/** Provided by the container service once it exists; no-ops until then. */
export interface ContainerHooks {
  stopContainersOf(podId: string): Promise<void>;
  /** `signal`: the RemovePodSandbox caller gave up; a runtime `delete` that hangs is then stopped. */
  removeContainersOf(podId: string, signal?: AbortSignal): Promise<void>;
  /** PodSandboxStatus.containers_statuses: kubelet's evented PLEG reads the pod's containers from it. */
  statusesOf(podId: string): ContainerStatus[];
  /** Host pids of the pod's running containers, the earliest started first (verbose status `pid`). */
  runningPidsOf(podId: string): number[];
}

export interface PodDeps {
  store: PodStore;
  network: PodNetworkDriver;
  cgroups: PodCgroupDriver;
  dirs: {
    /** Namespace pins: <pins>/{net,ipc,uts,pid,user}ns/<id>. */
    pins: string;
    /** Per-pod files: <pods>/<id>/. */
    pods: string;
    /** The infra's one-file rootfs. */
    infraRoot: string;
    /** Notes of the log directories Berth made (log-dirs.ts); none kept when absent. */
    logDirs?: string;
  };
  /** The container service's side of a pod (late-bound by the daemon: containers are built after pods). */
  containers?: ContainerHooks;
  shmSize: number;
  defaultHandler: string;
  knownHandlers: string[];
  /** Handlers where pods may not ask for a user namespace, with why (probeIdmappedMounts at start). */
  usernsUnavailable?: ReadonlyMap<string, string>;
  /** Handlers whose start-up probe failed → why; a handler's entry is there once `handlersReady(name)` resolves. */
  unusableHandlers?: ReadonlyMap<string, string>;
  /** Resolves once the named handler's start-up probe answered (other handlers' probes are not waited for). */
  handlersReady?: (handler: string) => Promise<void>;
  /** The host's files, copied for pods without their own DNS config or with host network. */
  hostResolvConf?: string;
  hostHosts?: string;
  /** Where sandbox lifecycle events go (GetContainerEvents). */
  events?: Publisher<ContainerEventResponse>;
  /** Set when the host rebooted since the records were written (why): no recorded pid is trusted. */
  rebooted?: string;
}

/** Told of every pod saved or dropped (sandbox events); set by the service. */
export interface PodWatcher {
  changed(pod: Pod, removed: boolean): void;
}

/** A pod service without a container service (unit tests): no pod has containers. */
export const NO_CONTAINERS: ContainerHooks = { stopContainersOf: async () => undefined, removeContainersOf: async () => undefined, statusesOf: () => [], runningPidsOf: () => [] };

export class PodContext {
  watcher: PodWatcher = { changed: () => undefined };
  readonly pods = new Map<string, Pod>();
  readonly locks = new KeyedMutex();
  readonly hooks: ContainerHooks;
  /** Run first when a pod stops or is released (e.g. port-forward cuts its connections into the pod). */
  readonly stopListeners: Array<(podId: string) => Promise<void>> = [];

  constructor(readonly deps: PodDeps) {
    this.hooks = deps.containers ?? NO_CONTAINERS;
  }

  save(pod: Pod): void {
    this.deps.store.put(pod.rec);
    this.pods.set(pod.rec.id, pod);
    this.watcher.changed(pod, false);
  }

  drop(pod: Pod): void {
    this.deps.store.delete(pod.rec.id);
    if (this.pods.delete(pod.rec.id)) this.watcher.changed(pod, true);
  }

  /** A visible pod by full ID or unique prefix; undefined when there is none. */
  find(ref: string): Pod | undefined {
    const visible = [...this.pods.values()].filter(isVisible).map((p) => p.rec.id);
    const id = resolveId(visible, ref, "pod sandbox");
    return id === undefined ? undefined : this.pods.get(id);
  }

  get(ref: string): Pod {
    const p = this.find(ref);
    if (!p) throw notFound("pod sandbox", ref);
    return p;
  }

  podRef(pod: Pod): PodRef {
    const m = pod.config.metadata!;
    return { id: pod.rec.id, name: m.name, namespace: m.namespace, uid: m.uid };
  }
}
