// Where a container's cgroup goes under its pod's, in runc's cgroupsPath syntax for each driver,
// and the matching path inside every hierarchy (what stats read).
import type { PodCgroup } from "../oci/cgroups-driver.js";

export interface ContainerCgroup {
  /** linux.cgroupsPath for runc: a path (cgroupfs) or "slice:prefix:name" (systemd). */
  cgroupsPath: string;
  /** The cgroup's path inside each hierarchy, e.g. /kubepods/pod1/<id>. */
  path: string;
}

/**
 * cgroupfs: <pod>/<id>, as containerd names it (cAdvisor finds containers by that name).
 * systemd: a berth-<id>.scope in the pod's slice, made by runc.
 */
export function containerCgroup(pod: PodCgroup, id: string): ContainerCgroup {
  if (pod.driver === "systemd") {
    return { cgroupsPath: `${pod.name}:berth:${id}`, path: `${pod.path === "/" ? "" : pod.path}/berth-${id}.scope` };
  }
  const path = `${pod.path === "/" ? "" : pod.path}/${id}`;
  return { cgroupsPath: path, path };
}

/** The name of the leaf conmon goes to, next to the container's (cgroupfs only). */
export function conmonLeafName(id: string): string {
  return `berth-conmon-${id.slice(0, 32)}`;
}
