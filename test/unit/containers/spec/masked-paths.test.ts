// Masked and read-only /proc and /sys paths: defaults, kubelet's lists, unmasked, privileged.
import assert from "node:assert/strict";
import { test } from "node:test";
import { procPaths } from "../../../../src/containers/spec/masked-paths.js";
import { INVALID, throwsCode } from "./fixtures.js";

// containerd's default Linux spec (pkg/oci/spec.go, populateDefaultUnixSpec), written out here so
// a change to Berth's constants cannot pass unnoticed. Kubernetes 1.34's DefaultProcMount list
// also masks /proc/interrupts, but kubelet sends its list itself; these apply only when none is sent.
const CONTAINERD_MASKED = [
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
const CONTAINERD_READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

test("containerd's defaults when nothing is sent", () => {
  const p = procPaths({ masked: [], readonly: [], privileged: false, userns: false });
  assert.deepEqual(p.maskedPaths, CONTAINERD_MASKED);
  assert.deepEqual(p.readonlyPaths, CONTAINERD_READONLY);
  assert.ok(p.maskedPaths.includes("/proc/kcore") && p.maskedPaths.includes("/sys/firmware"));
  assert.ok(p.readonlyPaths.includes("/proc/sys") && p.readonlyPaths.includes("/proc/sysrq-trigger"));
});

test("lists kubelet sends are used as sent", () => {
  const p = procPaths({ masked: ["/proc/kcore", "/proc/custom/"], readonly: ["/proc/sys"], privileged: false, userns: false });
  assert.deepEqual(p.maskedPaths, ["/proc/kcore", "/proc/custom"]);
  assert.deepEqual(p.readonlyPaths, ["/proc/sys"]);
  throwsCode(() => procPaths({ masked: ["proc/kcore"], readonly: [], privileged: false, userns: false }), INVALID, /masked_paths\[0\]/);
});

test("empty lists in a user-namespaced pod are procMount Unmasked: nothing masked", () => {
  assert.deepEqual(procPaths({ masked: [], readonly: [], privileged: false, userns: true }), { maskedPaths: [], readonlyPaths: [] });
  // Default procMount in a user namespace still sends its lists.
  assert.deepEqual(procPaths({ masked: ["/proc/kcore"], readonly: ["/proc/sys"], privileged: false, userns: true }), { maskedPaths: ["/proc/kcore"], readonlyPaths: ["/proc/sys"] });
});

test("privileged containers get neither list", () => {
  assert.deepEqual(procPaths({ masked: ["/proc/kcore"], readonly: ["/proc/sys"], privileged: true, userns: false }), { maskedPaths: [], readonlyPaths: [] });
});
