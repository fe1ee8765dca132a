// CDI device names: what a fully qualified name is, and which devices a container asks for
// through CDI_devices and the older cdi.k8s.io/ annotations (in order, each once).
import assert from "node:assert/strict";
import { test } from "node:test";
import { deviceNameProblem, parseQualifiedName, requestedDevices, vendorProblem } from "../../../../src/containers/cdi/names.js";

test("qualified names: vendor/class=name with the reference parser's character rules", () => {
  assert.deepEqual(parseQualifiedName("vendor.com/gpu=0"), { vendor: "vendor.com", class: "gpu", name: "0" });
  assert.deepEqual(parseQualifiedName("nvidia.com/gpu=GPU-1a:2_b.c"), { vendor: "nvidia.com", class: "gpu", name: "GPU-1a:2_b.c" });
  for (const bad of ["gpu0", "vendor.com/gpu", "/dev/null", "vendor.com=0", "vendor.com/=0", "vendor.com/gpu=", "1vendor.com/gpu=0", "vendor.com/gp u=0", "vendor.com/a/b=0", "vendor.com/gpu=-0", "vendor.com/gpu=0-"]) {
    assert.equal(typeof parseQualifiedName(bad), "string", bad);
  }
  assert.match(String(parseQualifiedName("vendor.com/gpu")), /not a fully qualified CDI device name/);
  assert.match(vendorProblem("vendor.com-") ?? "", /must end with a letter or digit/);
  assert.equal(deviceNameProblem("a"), undefined);
  assert.match(deviceNameProblem("a/b") ?? "", /character "\/"/);
});

test("requested devices: CDI_devices first, then cdi.k8s.io/ annotations by key, each name once", () => {
  const got = requestedDevices([{ name: "v.com/c=b" }, { name: "v.com/c=a" }, { name: "v.com/c=b" }], {
    "cdi.k8s.io/z-plugin": "v.com/c=z",
    "cdi.k8s.io/a-plugin": "v.com/c=a,v.com/c=y",
    "other.io/x": "v.com/c=ignored",
  });
  assert.deepEqual(got, [
    { name: "v.com/c=b", from: "CDI_devices[0]" },
    { name: "v.com/c=a", from: "CDI_devices[1]" },
    { name: "v.com/c=y", from: "annotation cdi.k8s.io/a-plugin" },
    { name: "v.com/c=z", from: "annotation cdi.k8s.io/z-plugin" },
  ]);
  assert.deepEqual(requestedDevices([], { "io.kubernetes.x": "1" }), []);
});
