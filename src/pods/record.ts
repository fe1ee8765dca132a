// A pod sandbox as data: the record persisted in the `pods` table (every resource it owns, by
// path, planned before it is made) and its lifecycle phase, plus the in-memory form.
import type { PodCgroup } from "../oci/cgroups-driver.js";
import type { InfraProcess } from "../oci/infra.js";
import type { CniResult } from "../network/cni/types.js";
import { PodSandboxConfig } from "../generated/runtime/v1/api.js";

/**
 * creating: RunPodSandbox is making it (hidden from List/Status; cleaned up at start if the
 *   daemon died meanwhile). ready / notready: the CRI states. failed: creation failed and its
 *   cleanup did too; hidden, cleaned up again at start or on the next RunPodSandbox of the pod.
 */
export type PodPhase = "creating" | "ready" | "notready" | "failed";

export type NsMode = "pod" | "node";

export interface PodRecord {
  v: 1;
  id: string;
  phase: PodPhase;
  /** Nanoseconds since the epoch, as a decimal string (JSON has no bigint). */
  createdAt: string;
  /** The PodSandboxConfig in proto3 JSON form. */
  config: unknown;
  runtimeHandler: string;
  ns: { network: NsMode; ipc: NsMode; pid: "pod" | "container" | "node" };
  /** Pinned namespace files (planned paths; a missing one was never made or is gone). */
  pins: { net?: string; ipc?: string; uts?: string; pid?: string; user?: string };
  /** The pod's /dev/shm: a tmpfs Berth mounts, or the host's with host IPC. */
  shm: { path: string; owned: boolean };
  /** resolv.conf, hosts, hostname, shm/ and the infra log live here. */
  dir: string;
  cgroup: PodCgroup & { created: boolean; infraLeaf?: string };
  /** Set before CNI ADD starts, so DEL runs even after a crash mid-ADD. */
  network?: { attached: boolean; name?: string; ips: string[]; result?: CniResult };
  infra?: InfraProcess;
  /** Why the pod is NOTREADY (stopped, or what recovery found). */
  reason?: string;
}

export interface Pod {
  rec: PodRecord;
  config: PodSandboxConfig;
  /** name/namespace/uid/attempt: RunPodSandbox with the same key is the same pod. */
  key: string;
}

export function podKey(m: { name: string; namespace: string; uid: string; attempt: number }): string {
  return JSON.stringify([m.namespace, m.name, m.uid, m.attempt]);
}

export function podFromRecord(rec: PodRecord): Pod {
  const config = PodSandboxConfig.fromJSON(rec.config);
  const m = config.metadata ?? { name: "", namespace: "", uid: "", attempt: 0 };
  return { rec, config, key: podKey(m) };
}

/** Visible to CRI callers (List, Status, Stop, Remove by ID). */
export function isVisible(p: Pod): boolean {
  return p.rec.phase === "ready" || p.rec.phase === "notready";
}
