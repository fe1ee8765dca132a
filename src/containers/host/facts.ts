// Facts about the host the spec builder needs and only the host can tell, read once at start:
// cgroup mode, the swap controller, the daemon's oom_score_adj and capability bounding set,
// runc's rro support, AppArmor.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import type { Hierarchy } from "../../oci/cgroups-hierarchies.js";
import type { CgroupMode } from "../../oci/cgroups.js";
import { logger } from "../../util/log.js";
import { boundingMask, capabilitiesInMask } from "../spec/capabilities.js";
import { DEFAULT_APPARMOR_PROFILE, DEFAULT_CAPABILITIES, type SpecOptions } from "../spec/index.js";
import { hostDevices } from "./devices.js";

export interface HostFacts {
  cgroupMode: CgroupMode;
  swapController: boolean;
  oomScoreAdjFloor: number;
  recursiveReadOnlyMounts: boolean;
  kernelVersion: string;
  apparmor: boolean;
  /** The profile RuntimeDefault means: Berth's when loaded, else unconfined (logged at start). */
  apparmorDefault: string;
  /**
   * The daemon's capability bounding set (CapBnd of /proc/self/status): all a container can be
   * given, so what privileged and "ALL" mean. Read here only, once, and passed to every spec.
   */
  capabilities: readonly string[];
}

const log = logger("host");

/** Names in the daemon's bounding set; a host without some capability (CAP_SYS_RESOURCE in many nested nodes) is logged. */
function boundingSet(status: string): string[] {
  const caps = capabilitiesInMask(boundingMask(status));
  const missingDefaults = DEFAULT_CAPABILITIES.filter((c) => !caps.includes(c));
  log.info({ count: caps.length, ...(missingDefaults.length ? { missingDefaults } : {}) }, "capability bounding set read");
  return caps;
}

function swapController(mode: CgroupMode, hierarchies: readonly Hierarchy[]): boolean {
  if (mode === "v2") {
    const v2 = hierarchies.find((h) => h.kind === "v2");
    if (!v2) return false;
    // The root cgroup has no memory.swap.max; any child shows whether the kernel has it.
    try {
      for (const e of readdirSync(v2.mount, { withFileTypes: true })) {
        if (e.isDirectory() && existsSync(join(v2.mount, e.name, "memory.swap.max"))) return true;
      }
    } catch {
      return false;
    }
    return false;
  }
  const mem = hierarchies.find((h) => h.kind === "v1" && h.controllers.includes("memory"));
  return !!mem && existsSync(join(mem.mount, "memory.memsw.limit_in_bytes"));
}

function kernelAtLeast(version: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a > major || (a === major && b >= minor);
}

/** runc lists "rro" among its mount options (1.2+); the kernel needs mount_setattr (5.12+). */
function runcHasRro(runcPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(runcPath, ["features"], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(false);
      try {
        const f = JSON.parse(stdout) as { mountOptions?: unknown };
        resolve(Array.isArray(f.mountOptions) && f.mountOptions.includes("rro"));
      } catch {
        resolve(false);
      }
    });
  });
}

function apparmorLoaded(name: string): boolean {
  try {
    return readFileSync("/sys/kernel/security/apparmor/profiles", "utf8").split("\n").some((l) => l.startsWith(`${name} (`));
  } catch {
    return false;
  }
}

function apparmorEnabled(): boolean {
  try {
    return readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").trim() === "Y";
  } catch {
    return false;
  }
}

export async function readHostFacts(runcPath: string, mode: CgroupMode, hierarchies: readonly Hierarchy[]): Promise<HostFacts> {
  const kernelVersion = release();
  let oomScoreAdjFloor = 0;
  try {
    oomScoreAdjFloor = Number(readFileSync("/proc/self/oom_score_adj", "utf8").trim()) || 0;
  } catch {
    // not Linux /proc: keep 0
  }
  const capabilities = boundingSet(readFileSync("/proc/self/status", "utf8"));
  return {
    cgroupMode: mode,
    swapController: swapController(mode, hierarchies),
    oomScoreAdjFloor,
    recursiveReadOnlyMounts: kernelAtLeast(kernelVersion, 5, 12) && (await runcHasRro(runcPath)),
    kernelVersion,
    apparmor: apparmorEnabled() && existsSync("/sys/kernel/security/apparmor"),
    apparmorDefault: apparmorLoaded(DEFAULT_APPARMOR_PROFILE) ? DEFAULT_APPARMOR_PROFILE : "unconfined",
    capabilities,
  };
}

/** SpecOptions for one container: host devices only for a privileged one (the walk is not free). */
export function specOptions(facts: HostFacts, privileged: boolean): SpecOptions {
  return {
    cgroupMode: facts.cgroupMode,
    swapController: facts.swapController,
    hostDevices: privileged ? hostDevices() : [],
    apparmor: facts.apparmor,
    apparmorDefaultProfile: facts.apparmorDefault,
    oomScoreAdjFloor: facts.oomScoreAdjFloor,
    recursiveReadOnlyMounts: facts.recursiveReadOnlyMounts,
    hostCapabilities: facts.capabilities,
    kernelVersion: facts.kernelVersion.replace(/^(\d+\.\d+(?:\.\d+)?).*$/, "$1"),
  };
}
