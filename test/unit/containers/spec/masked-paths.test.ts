// Masked and read-only /proc and /sys paths: defaults, kubelet's lists, unmasked, privileged.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, procPaths } from "../../../../src/containers/spec/masked-paths.js";
import { INVALID, throwsCode } from "./fixtures.js";

test("containerd's defaults when nothing is sent", () => {
  const p = procPaths({ masked: [], readonly: [], privileged: false, userns: false });
  assert.deepEqual(p.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  assert.deepEqual(p.readonlyPaths, [...DEFAULT_READONLY_PATHS]);
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
