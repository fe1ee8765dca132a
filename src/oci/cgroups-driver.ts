// The pod cgroup driver services use: name a pod's cgroup, create it if missing, remove it,
// and place a Berth-run process (the infra) in it — for cgroupfs and systemd, v1 and v2.
import { join } from "node:path";
import { CgroupFs } from "./cgroups-fs.js";
import { cgroupHierarchies, type Hierarchy } from "./cgroups-hierarchies.js";
import { podCgroup, type PodCgroup } from "./cgroups-names.js";
import { scopePrefix, requireSystemd, startSlice, stopSlice } from "./cgroups-systemd.js";
import { detectCgroupMode, type CgroupDriverName, type CgroupMode } from "./cgroups.js";

export type { PodCgroup } from "./cgroups-names.js";

export interface ProcessPlacement {
  /** Argv prefix the process is started through (systemd: a transient scope); empty for cgroupfs. */
  prefix: string[];
  /** The child cgroup Berth made for it (cgroupfs), to remove once the process is gone. */
  leaf?: string;
  /** Moves the running process's pids in (cgroupfs); a no-op when the prefix placed them. */
  adopt(pids: readonly number[]): Promise<void>;
}

export interface PodCgroupDriver {
  readonly name: CgroupDriverName;
  readonly mode: CgroupMode;
  /** The pod's cgroup from its CRI `cgroup_parent` (or generated); InvalidArgument when it does not fit the driver. */
  podCgroup(cgroupParent: string, uid: string): PodCgroup;
  /** Whether it exists already (kubelet made it): then it is not Berth's to remove. */
  exists(c: PodCgroup): Promise<boolean>;
  /** Creates it if missing; true when Berth made it. */
  create(c: PodCgroup): Promise<boolean>;
  /** Removes it and anything below it; fine when already gone. */
  remove(c: PodCgroup): Promise<void>;
  /** Removes a child cgroup made by `placement`. */
  removeLeaf(leaf: string): Promise<void>;
  /** Prepares a place for a Berth-run process in the pod cgroup. */
  placement(c: PodCgroup, name: string): Promise<ProcessPlacement>;
}

export interface CgroupDriverOptions {
  name: CgroupDriverName;
  /** `pods.cgroup_parent`; empty means /berth or berth.slice. */
  defaultParent: string;
  hierarchies?: Hierarchy[];
  mode?: CgroupMode;
}

export async function openCgroupDriver(o: CgroupDriverOptions): Promise<PodCgroupDriver> {
  const mode = o.mode ?? detectCgroupMode();
  const hierarchies = o.hierarchies ?? (await cgroupHierarchies());
  const fs = new CgroupFs(hierarchies, mode === "v2");
  return o.name === "systemd" ? new SystemdDriver(mode, fs, hierarchies, o.defaultParent) : new CgroupfsDriver(mode, fs, o.defaultParent);
}

class CgroupfsDriver implements PodCgroupDriver {
  readonly name = "cgroupfs" as const;
  constructor(
    readonly mode: CgroupMode,
    private readonly fs: CgroupFs,
    private readonly defaultParent: string,
  ) {}

  podCgroup(cgroupParent: string, uid: string): PodCgroup {
    return podCgroup("cgroupfs", cgroupParent, this.defaultParent, uid);
  }

  exists(c: PodCgroup): Promise<boolean> {
    return this.fs.exists(c.path);
  }

  create(c: PodCgroup): Promise<boolean> {
    return this.fs.create(c.path);
  }

  remove(c: PodCgroup): Promise<void> {
    return this.fs.remove(c.path);
  }

  removeLeaf(leaf: string): Promise<void> {
    return this.fs.remove(leaf);
  }

  async placement(c: PodCgroup, name: string): Promise<ProcessPlacement> {
    // A leaf of its own: on v2 a cgroup with children may hold no processes.
    const leaf = join(c.path, name);
    await this.fs.create(leaf);
    return { prefix: [], leaf, adopt: (pids) => this.fs.addProcesses(leaf, pids) };
  }
}

class SystemdDriver implements PodCgroupDriver {
  readonly name = "systemd" as const;
  private readonly unitFs: CgroupFs;
  constructor(
    readonly mode: CgroupMode,
    fs: CgroupFs,
    hierarchies: readonly Hierarchy[],
    private readonly defaultParent: string,
  ) {
    // systemd's own tree: the v2 hierarchy, or name=systemd on v1.
    const own = hierarchies.filter((h) => (mode === "v1" ? h.controllers.includes("name=systemd") : h.kind === "v2"));
    this.unitFs = own.length ? new CgroupFs(own, false) : fs;
  }

  podCgroup(cgroupParent: string, uid: string): PodCgroup {
    // Before anything is made: without systemd this driver can do nothing right.
    requireSystemd();
    return podCgroup("systemd", cgroupParent, this.defaultParent, uid);
  }

  exists(c: PodCgroup): Promise<boolean> {
    return this.unitFs.exists(c.path);
  }

  async create(c: PodCgroup): Promise<boolean> {
    requireSystemd();
    if (await this.unitFs.exists(c.path)) return false;
    await startSlice(c.name);
    return true;
  }

  async remove(c: PodCgroup): Promise<void> {
    requireSystemd();
    if (await this.unitFs.exists(c.path)) await stopSlice(c.name);
  }

  async removeLeaf(): Promise<void> {
    // Transient scopes are collected by systemd once their process exits.
  }

  async placement(c: PodCgroup, name: string): Promise<ProcessPlacement> {
    requireSystemd();
    return { prefix: scopePrefix(c.name, `${name}.scope`), adopt: async () => undefined };
  }
}
