// Spec annotations: CRI's own plus Berth's io.kubernetes.cri.* keys, which cannot be spoofed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ANNOTATIONS, buildAnnotations } from "../../../../src/containers/spec/annotations.js";
import { ctr, pod } from "./fixtures.js";

test("CRI annotations, caller's extras, then Berth's keys", () => {
  const a = buildAnnotations({
    config: ctr({ annotations: { "io.kubernetes.container.hash": "abc", "io.kubernetes.cri.sandbox-id": "spoofed", "io.kubernetes.cri.other": "x" } }),
    sandboxConfig: pod(),
    sandboxId: "5a4d",
    imageName: "docker.io/library/busybox:1.36",
    extra: { "berth.io/log-path": "/var/log/pods/x.log" },
  });
  assert.deepEqual(a, {
    "io.kubernetes.container.hash": "abc",
    "berth.io/log-path": "/var/log/pods/x.log",
    [ANNOTATIONS.containerType]: "container",
    [ANNOTATIONS.sandboxId]: "5a4d",
    [ANNOTATIONS.sandboxName]: "web-0",
    [ANNOTATIONS.sandboxNamespace]: "default",
    [ANNOTATIONS.sandboxUid]: "pod-uid-1",
    [ANNOTATIONS.containerName]: "app",
    [ANNOTATIONS.imageName]: "docker.io/library/busybox:1.36",
  });
});
