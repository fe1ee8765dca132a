// A container as data: the record persisted in the `containers` table (the CRI config, every
// path it owns, planned before it is made, and its lifecycle phase) and its in-memory form.
import { ContainerConfig, LinuxContainerResources, type Container as CriContainer } from "../generated/runtime/v1/api.js";
import type { ContainerProcess } from "../oci/runtime.js";

/**
 * creating: CreateContainer is making it (hidden; cleaned up at start if the daemon died).
 * created / running / exited: the CRI states. A container never goes back.
 */
export type ContainerPhase = "creating" | "created" | "running" | "exited";

export interface ContainerPaths {
  /** <state>/containers/<id>: config.json, rootfs (the overlay mount point), conmon's files. */
  bundle: string;
  /** <root>/containers/<id>: upper, work, volumes, and conmon's persist files (exit, oom). */
  dir: string;
}

export interface ContainerRecord {
  v: 1;
  id: string;
  podId: string;
  phase: ContainerPhase;
  /** Nanoseconds since the epoch, as decimal strings (JSON has no bigint); "0" when not yet. */
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  /** Completed, Error, OOMKilled (exited) or why recovery marked it exited. */
  reason: string;
  message: string;
  /** The ContainerConfig in proto3 JSON form. */
  config: unknown;
  /** The current resources (the config's, then every accepted update), proto3 JSON. */
  resources: unknown;
  image: {
    /** What the CRI config named (ImageSpec.image). */
    name: string;
    /** "sha256:<config digest>": the image ID (PullImage's image_ref, ContainerStatus's image_id). */
    id: string;
    /** "name@sha256:<manifest digest>" of the image in use: ContainerStatus's image_ref (older records: absent). */
    digestedRef?: string;
    /** The layers under the rootfs, bottom first: kept from image GC while the record exists. */
    chainIds: string[];
    stopSignal?: string;
  };
  paths: ContainerPaths;
  /** Whether Berth mounted the rootfs (so a crash mid-create still unmounts it). */
  mounted: boolean;
  /** The CRI log file; "" for none. */
  logPath: string;
  /** runc's cgroupsPath, and the cgroup's path inside each hierarchy (for stats). */
  cgroupsPath: string;
  cgroupPath: string;
  /** cgroupfs: the pod-cgroup leaf conmon was placed in (removed with the container). */
  conmonLeaf?: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  process?: ContainerProcess;
  /** runc could not exec the command (missing, not executable): CreateContainer succeeded without a
   * process and StartContainer fails with this, leaving the container exited with StartError (containerd). */
  startError?: string;
}

export interface Container {
  rec: ContainerRecord;
  config: ContainerConfig;
  resources: LinuxContainerResources | undefined;
  /** Set once StartContainer asked runc to start it (an exit before "running" is recorded still counts). */
  startRequested?: boolean;
  /** Its ListContainers entry, built once per change (dropped by every save). */
  listed?: CriContainer;
}

export function containerFromRecord(rec: ContainerRecord): Container {
  const config = ContainerConfig.fromJSON(rec.config);
  const resources = rec.resources === undefined || rec.resources === null ? undefined : LinuxContainerResources.fromJSON(rec.resources);
  return { rec, config, resources };
}

/** Visible to CRI callers (List, Status, Stop, Remove by ID). */
export function isVisible(c: Container): boolean {
  return c.rec.phase !== "creating";
}

export const nowNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
