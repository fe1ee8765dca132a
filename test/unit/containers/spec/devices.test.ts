// Device nodes and device-cgroup rules from CRI devices and, when privileged, all host devices.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildDevices, type DeviceInput } from "../../../../src/containers/spec/devices.js";
import { Device } from "../../../../src/generated/runtime/v1/api.js";
import { FUSE_DEV, input, INVALID, NULL_DEV, SDA_DEV, SND_DEVS, throwsCode } from "./fixtures.js";

const dev = (hostPath: string, containerPath = "", permissions = "") => Device.fromPartial({ hostPath, containerPath, permissions });

function devices(over: Partial<DeviceInput> = {}) {
  return buildDevices({ criDevices: [], privileged: false, hostDevices: [NULL_DEV, FUSE_DEV, SDA_DEV, ...SND_DEVS], lookup: input().lookupDevice, ...over });
}

test("no devices: deny everything (runc adds its standard nodes itself)", () => {
  assert.deepEqual(devices(), { devices: [], cgroup: [{ allow: false, access: "rwm" }] });
});

test("CRI devices: node at the container path, cgroup rule with the permissions", () => {
  const d = devices({ criDevices: [dev("/dev/fuse", "/dev/fuse", "rw"), dev("/dev/sda", "/dev/xvda")] });
  assert.deepEqual(d.devices, [
    { type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
    { type: "b", path: "/dev/xvda", major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
  ]);
  assert.deepEqual(d.cgroup, [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", major: 10, minor: 229, access: "rw" },
    { allow: true, type: "b", major: 8, minor: 0, access: "rwm" },
  ]);
});

test("a directory maps every node below it; file type bits are dropped from fileMode", () => {
  const d = devices({ criDevices: [dev("/dev/snd", "/dev/snd")] });
  assert.deepEqual(d.devices.map((x) => x.path), ["/dev/snd/controlC0", "/dev/snd/pcmC0D0p"]);
  assert.equal(devices({ criDevices: [dev("/dev/null")] }).devices[0]?.fileMode, 0o666);
});

test("ownership from the security context, when configured", () => {
  const d = devices({ criDevices: [dev("/dev/fuse")], owner: { uid: 1000, gid: 1000 } });
  assert.equal(d.devices[0]?.uid, 1000);
  assert.equal(d.devices[0]?.gid, 1000);
});

test("privileged: every host device and an allow-all rule", () => {
  const d = devices({ privileged: true, criDevices: [dev("/dev/fuse", "/dev/fuse2")] });
  assert.deepEqual(d.devices.map((x) => x.path), ["/dev/null", "/dev/fuse", "/dev/sda", "/dev/snd/controlC0", "/dev/snd/pcmC0D0p", "/dev/fuse2"]);
  assert.deepEqual(d.cgroup, [{ allow: false, access: "rwm" }, { allow: true, access: "rwm" }]);
});

test("missing devices and bad permissions are INVALID_ARGUMENT", () => {
  throwsCode(() => devices({ criDevices: [dev("/dev/nvidia0", "/dev/nvidia0")] }), INVALID, /devices\[0\]\.host_path "\/dev\/nvidia0": no such device on the host/);
  throwsCode(() => devices({ criDevices: [dev("/dev/fuse", "/dev/fuse", "rwx")] }), INVALID, /permissions "rwx"/);
  throwsCode(() => devices({ criDevices: [dev("/dev/fuse", "/dev/fuse", "rr")] }), INVALID, /permissions "rr"/);
  throwsCode(() => devices({ criDevices: [dev("dev/fuse")] }), INVALID, /host_path "dev\/fuse" must be an absolute path/);
  throwsCode(() => devices({ criDevices: [dev("/dev/snd")], lookup: () => [NULL_DEV] }), INVALID, /not under it/);
});
