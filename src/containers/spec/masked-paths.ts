// /proc and /sys paths hidden from (masked) or read-only in the container: containerd's and
// kubelet's defaults, the lists kubelet sends, and none for privileged or unmasked containers.
import { cleanAbs } from "./clean-path.js";

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
  "/proc/scsi",
];

export const DEFAULT_READONLY_PATHS: readonly string[] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

export interface ProcPathsInput {
  masked: readonly string[];
  readonly: readonly string[];
  privileged: boolean;
  /** The pod runs in a user namespace: the only case kubelet (>= 1.30) sends procMount Unmasked. */
  userns: boolean;
}

/**
 * protobuf cannot tell an empty list from an absent one, so:
 * - a non-empty list is used as sent (kubelet's Default procMount sends exactly the defaults);
 * - both lists empty in a user-namespaced pod is kubelet's procMount Unmasked: nothing masked;
 * - otherwise an empty list means "not given" (crictl, old clients) and the defaults apply,
 *   where containerd would mask nothing.
 * Privileged containers get neither list.
 */
export function procPaths(input: ProcPathsInput): { maskedPaths: string[]; readonlyPaths: string[] } {
  if (input.privileged) return { maskedPaths: [], readonlyPaths: [] };
  if (input.userns && input.masked.length === 0 && input.readonly.length === 0) return { maskedPaths: [], readonlyPaths: [] };
  const clean = (list: readonly string[], field: string): string[] => list.map((p, i) => cleanAbs(p, `${field}[${i}]`));
  return {
    maskedPaths: input.masked.length > 0 ? clean(input.masked, "linux.security_context.masked_paths") : [...DEFAULT_MASKED_PATHS],
    readonlyPaths: input.readonly.length > 0 ? clean(input.readonly, "linux.security_context.readonly_paths") : [...DEFAULT_READONLY_PATHS],
  };
}
