// The systemd cgroup driver's side effects: pod slices started and stopped through systemctl
// (kubelet normally made the slice already), and a scope for a process Berth runs in a pod.
import { execFile } from "node:child_process";
import { failedPrecondition, internal } from "../errors.js";
import { systemdRunning } from "./cgroups.js";

const TIMEOUT_MS = 15_000;

/** Fails clearly when the systemd driver is configured on a host whose init is not systemd. */
export function requireSystemd(): void {
  if (!systemdRunning()) {
    throw failedPrecondition(
      `cgroup driver "systemd" is configured (runtime.cgroup_driver) but systemd is not running on this host (no /run/systemd/system); ` +
        `set runtime.cgroup_driver = "cgroupfs" (or leave it empty to detect) and use kubelet's cgroupDriver: cgroupfs`,
    );
  }
}

function systemctl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("systemctl", args, { timeout: TIMEOUT_MS }, (err, _out, stderr) => {
      if (err) reject(internal(`systemctl ${args.join(" ")} failed: ${String(stderr).trim() || err.message}`, err));
      else resolve();
    });
  });
}

export async function startSlice(slice: string): Promise<void> {
  requireSystemd();
  await systemctl(["start", slice]);
}

export async function stopSlice(slice: string): Promise<void> {
  requireSystemd();
  await systemctl(["stop", slice]);
}

/** The argv prefix that runs a command in a transient scope under `slice`. */
export function scopePrefix(slice: string, unit: string): string[] {
  return ["systemd-run", "--scope", "--quiet", "--collect", `--slice=${slice}`, `--unit=${unit}`, "--"];
}
