// The host facts the daemon probes once at start (cgroup mode, hierarchies, which cgroup driver)
// and hands down, so no service or driver resolves them again.
import type { Config } from "../config/config.js";
import { cgroupHierarchies, type Hierarchy } from "../oci/cgroups-hierarchies.js";
import { defaultCgroupDriver, detectCgroupMode, systemdRunning, type CgroupDriverName, type CgroupMode } from "../oci/cgroups.js";
import { logger } from "../util/log.js";

// Logged under "pods", as before the probe moved here: RunPodSandbox is what the warning is about.
const log = logger("pods");

export interface Host {
  cgroupMode: CgroupMode;
  hierarchies: Hierarchy[];
  /** runtime.cgroup_driver, or the host's default when unset. */
  cgroupDriver: CgroupDriverName;
}

export async function probeHost(config: Config): Promise<Host> {
  const cgroupDriver = config.runtime.cgroupDriver || defaultCgroupDriver();
  if (cgroupDriver === "systemd" && !systemdRunning()) {
    log.warn("runtime.cgroup_driver is systemd but systemd is not running: RunPodSandbox will fail until it is set to cgroupfs");
  }
  return { cgroupMode: detectCgroupMode(), hierarchies: await cgroupHierarchies(), cgroupDriver };
}
