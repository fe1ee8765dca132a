// Parsing and validating CDI spec files: JSON and YAML, each version's fields, Go's
// case-insensitive field names, and every rule a bad spec breaks named in the error.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CdiParseError, parseCdiSpec } from "../../../../src/containers/cdi/parse.js";
import { validateCdiSpec } from "../../../../src/containers/cdi/validate.js";
import { requiredVersion } from "../../../../src/containers/cdi/version.js";

const load = (text: string) => validateCdiSpec(parseCdiSpec(text), "/etc/cdi/x.yaml", 0);
const json = (o: unknown) => JSON.stringify(o);
const base = { cdiVersion: "0.5.0", kind: "vendor.com/gpu", devices: [{ name: "gpu0", containerEdits: { deviceNodes: [{ path: "/dev/vgpu0" }] } }] };
const bad = (text: string, re: RegExp) => assert.throws(() => load(text), (e: unknown) => e instanceof CdiParseError && re.test(e.message), re.source);

test("a YAML spec with every kind of edit parses to typed data", () => {
  const spec = load(`---
cdiVersion: "0.7.0"
kind: vendor.com/gpu
annotations: { vendor.com/driver: "550" }
containerEdits:
  env: [VENDOR_LIB=/usr/lib/vendor]
  hooks:
    - { hookName: createContainer, path: /usr/bin/vendor-hook, args: [vendor-hook, update-ldcache], timeout: 5 }
devices:
  - name: gpu0
    containerEdits:
      deviceNodes:
        - { path: /dev/vgpu0, hostPath: /dev/null, type: c, major: 1, minor: 3, fileMode: 0666, permissions: rw, uid: 1000, gid: 44 }
      mounts:
        - { hostPath: /usr/lib/vendor, containerPath: /usr/lib/vendor, options: [ro, nosuid, rbind], type: bind }
      additionalGIDs: [44]
`);
  assert.equal(spec.vendor, "vendor.com");
  assert.equal(spec.class, "gpu");
  assert.deepEqual(spec.containerEdits.env, ["VENDOR_LIB=/usr/lib/vendor"]);
  assert.deepEqual(spec.containerEdits.hooks, [{ hookName: "createContainer", path: "/usr/bin/vendor-hook", args: ["vendor-hook", "update-ldcache"], timeout: 5 }]);
  const e = spec.devices[0]!.containerEdits;
  assert.deepEqual(e.deviceNodes, [{ path: "/dev/vgpu0", hostPath: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, permissions: "rw", uid: 1000, gid: 44 }]);
  assert.deepEqual(e.mounts, [{ hostPath: "/usr/lib/vendor", containerPath: "/usr/lib/vendor", options: ["ro", "nosuid", "rbind"], type: "bind" }]);
  assert.deepEqual(e.additionalGids, [44], "additionalGIDs matches additionalGids, as Go's JSON decoding does");
});

test("a JSON spec parses the same way; versions from 0.3.0 to 1.1.0 (with or without v) are known", () => {
  assert.equal(load(json(base)).devices[0]!.name, "gpu0");
  for (const v of ["0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0", "v1.0.0"]) {
    const spec = { ...base, cdiVersion: v, devices: [{ name: "gpu0", containerEdits: { env: ["A=1"] } }] };
    assert.equal(load(json(spec)).cdiVersion, v);
  }
});

test("a version too low for the fields used, or unknown, is refused", () => {
  bad(json({ ...base, cdiVersion: "0.4.0", devices: [{ name: "g", containerEdits: { deviceNodes: [{ path: "/dev/x", hostPath: "/dev/null" }] } }] }), /too low.*at least 0\.5\.0/);
  bad(json({ ...base, cdiVersion: "0.3.0", devices: [{ name: "g", containerEdits: { mounts: [{ hostPath: "/a", containerPath: "/a", type: "bind" }] } }] }), /at least 0\.4\.0/);
  bad(json({ ...base, cdiVersion: "0.6.0", devices: [{ name: "g", containerEdits: { additionalGids: [5] } }] }), /at least 0\.7\.0/);
  bad(json({ ...base, cdiVersion: "1.0.0", devices: [{ name: "g", containerEdits: { netDevices: [{ hostInterfaceName: "eth1", name: "net1" }] } }] }), /at least 1\.1\.0/);
  bad(json({ ...base, cdiVersion: "0.5.0", kind: "vendor.com/gpu.x" }), /at least 0\.6\.0/);
  bad(json({ ...base, cdiVersion: "2.0.0" }), /not a CDI version Berth knows/);
  assert.equal(requiredVersion(parseCdiSpec(json({ ...base, devices: [{ name: "1gpu", containerEdits: { env: ["A=1"] } }] }))), "0.5.0");
});

test("validation: kind, device names, duplicates, empty edits and each edit's fields", () => {
  bad(json({ ...base, kind: "gpu" }), /kind "gpu" is not vendor\/class/);
  bad(json({ ...base, kind: "vendor.com/gpu/x" }), /invalid class/);
  bad(json({ ...base, devices: [] }), /at least one device/);
  bad(json({ ...base, devices: [{ name: "gpu-", containerEdits: { env: ["A=1"] } }] }), /devices\[0\]: invalid device name "gpu-"/);
  bad(json({ ...base, devices: [base.devices[0], base.devices[0]] }), /devices\[1\]: device "gpu0" is defined twice/);
  bad(json({ ...base, devices: [{ name: "g" }] }), /containerEdits is empty/);
  bad(json({ ...base, containerEdits: { env: ["=x"] } }), /containerEdits\.env\[0\] "=x" is not NAME=VALUE/);
  bad(json({ ...base, devices: [{ name: "g", containerEdits: { deviceNodes: [{ path: "/dev/x", permissions: "rwx" }] } }] }), /permissions "rwx"/);
  bad(json({ ...base, devices: [{ name: "g", containerEdits: { deviceNodes: [{ path: "/dev/x", type: "z" }] } }] }), /type "z"/);
  bad(json({ ...base, devices: [{ name: "g", containerEdits: { deviceNodes: [{ path: "dev/x" }] } }] }), /path "dev\/x" is not absolute/);
  bad(json({ ...base, devices: [{ name: "g", containerEdits: { hooks: [{ hookName: "preboot", path: "/x" }] } }] }), /hookName: "preboot" is not one of/);
  bad(json({ ...base, devices: [{ name: "g", containerEdits: { hooks: [{ hookName: "poststop", path: "/x", timeout: 0 }] } }] }), /timeout must be greater than zero/);
  bad(json({ ...base, devices: [{ name: "g", containerEdits: { mounts: [{ hostPath: "/a", containerPath: "" }] } }] }), /containerPath is empty/);
});

test("parse errors: not YAML, unknown fields, wrong types, aliases past the cap", () => {
  bad("{ cdiVersion: [", /not valid YAML or JSON/);
  bad("", /holds no CDI spec/);
  bad(json({ ...base, vendorExtra: 1 }), /unknown field "vendorExtra"/);
  bad(json({ ...base, devices: [{ name: "g", containerEdits: { deviceNodes: [{ path: "/dev/x", major: "1" }] } }] }), /devices\[0\]\.containerEdits\.deviceNodes\[0\]\.major: must be an integer/);
  bad(json({ ...base, devices: "gpu0" }), /devices: must be a list/);
  const laughs = ["a: &a [x,x,x,x,x,x,x,x,x,x]"];
  for (let i = 1; i < 9; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
  bad(laughs.join("\n"), /not valid YAML or JSON/);
});
