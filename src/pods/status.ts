// PodSandboxStatus from memory: state, creation time, IPs, namespace options, labels and
// annotations; with `verbose`, an "info" JSON holding pid, pins, cgroup and the CNI result.
import {
  NamespaceMode,
  PodSandboxState,
  type PodSandboxStatusResponse,
  type NamespaceOption,
  type PodSandboxStatus,
} from "../generated/runtime/v1/api.js";
import { podFilePaths } from "./files.js";
import type { PodContext } from "./context.js";
import type { Pod } from "./record.js";

export function stateOf(pod: Pod): PodSandboxState {
  return pod.rec.phase === "ready" ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY;
}

function namespaceOptions(pod: Pod): NamespaceOption {
  const given = pod.config.linux?.securityContext?.namespaceOptions;
  const m = (v: "pod" | "node" | "container") => (v === "node" ? NamespaceMode.NODE : v === "container" ? NamespaceMode.CONTAINER : NamespaceMode.POD);
  return {
    network: m(pod.rec.ns.network),
    ipc: m(pod.rec.ns.ipc),
    pid: m(pod.rec.ns.pid),
    targetId: given?.targetId ?? "",
    usernsOptions: given?.usernsOptions,
  };
}

export function sandboxStatus(pod: Pod): PodSandboxStatus {
  const [ip = "", ...more] = pod.rec.network?.ips ?? [];
  return {
    id: pod.rec.id,
    metadata: pod.config.metadata,
    state: stateOf(pod),
    createdAt: BigInt(pod.rec.createdAt),
    network: { ip, additionalIps: more.map((x) => ({ ip: x })) },
    linux: { namespaces: { options: namespaceOptions(pod) } },
    labels: pod.config.labels,
    annotations: pod.config.annotations,
    runtimeHandler: pod.rec.runtimeHandler,
  };
}

/**
 * containerd's `pid` is the pause process, which users hand to `nsenter -t <pid> -n`. Berth has
 * no pause: the infra process (shared PID namespace) when there is one, else the pod's earliest
 * started running container, else 0 (nothing runs in the pod; `netnsPath` works with `nsenter --net=`).
 */
function podPid(pod: Pod, runningPids: number[]): number {
  if (pod.rec.phase !== "ready") return 0;
  return pod.rec.infra?.pid ?? runningPids[0] ?? 0;
}

/** What crictl inspectp shows under "info" (one JSON document, as containerd and CRI-O do). */
export function verboseInfo(pod: Pod, runningPids: number[] = []): Record<string, string> {
  const r = pod.rec;
  return {
    info: JSON.stringify({
      pid: podPid(pod, runningPids),
      phase: r.phase,
      reason: r.reason ?? "",
      runtimeHandler: r.runtimeHandler,
      namespaces: r.pins,
      netnsPath: r.pins.net ?? "",
      shm: r.shm.path,
      files: podFilePaths(r.dir),
      cgroup: { driver: r.cgroup.driver, name: r.cgroup.name, path: r.cgroup.path },
      network: r.network?.name ?? "",
      cniResult: r.network?.result ?? null,
      config: r.config,
    }),
  };
}

export function podStatus(ctx: PodContext, ref: string, verbose: boolean): PodSandboxStatusResponse {
  const pod = ctx.get(ref);
  return {
    status: sandboxStatus(pod),
    info: verbose ? verboseInfo(pod, ctx.hooks.runningPidsOf(pod.rec.id)) : {},
    containersStatuses: ctx.hooks.statusesOf(pod.rec.id),
    timestamp: BigInt(Date.now()) * 1_000_000n,
  };
}
