// What the host's cgroups look like (v1, v2 or hybrid) and which driver fits it. Read once
// at start; the cgroupfs and systemd drivers both build on this.
import { existsSync, statfsSync } from "node:fs";

export type CgroupMode = "v1" | "v2" | "hybrid";
export type CgroupDriverName = "cgroupfs" | "systemd";

const CGROUP2_SUPER_MAGIC = 0x63677270;

export function detectCgroupMode(root = "/sys/fs/cgroup"): CgroupMode {
  try {
    if (statfsSync(root).type === CGROUP2_SUPER_MAGIC) return "v2";
  } catch {
    return "v1";
  }
  return existsSync(`${root}/unified`) ? "hybrid" : "v1";
}

/** systemd is the init system when /run/systemd/system exists (sd_booted's rule). */
export function systemdRunning(): boolean {
  return existsSync("/run/systemd/system");
}

export function defaultCgroupDriver(): CgroupDriverName {
  return systemdRunning() ? "systemd" : "cgroupfs";
}
