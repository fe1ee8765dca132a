// CDI edits applied to a built spec: env replaced or appended, device nodes filled from the
// host with their cgroup rule, mounts replaced and sorted, hooks, GIDs; missing host nodes refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyCdiEdits } from "../../../../src/containers/cdi/apply.js";
import { emptyEdits, type CdiContainerEdits, type CdiInjection } from "../../../../src/containers/cdi/types.js";
import { buildSpec } from "../../../../src/containers/spec/build.js";
import { runcSpecProblems } from "../spec/runc-shape.js";
import { BerthError, Code } from "../../../../src/errors.js";
import { input, NULL_DEV, SDA_DEV } from "../spec/fixtures.js";

const lookup = (p: string) => ({ "/dev/null": [NULL_DEV], "/dev/sda": [SDA_DEV] } as Record<string, typeof NULL_DEV[]>)[p];
const inj = (...parts: Partial<CdiContainerEdits>[]): CdiInjection => ({ devices: ["v.com/c=d"], parts: parts.map((e, i) => ({ source: `part ${i}`, edits: { ...emptyEdits(), ...e } })) });

test("through buildSpec: every edit lands where runc reads it, and runc's shape check passes", () => {
  const spec = buildSpec(input({
    config: { CDIDevices: [{ name: "v.com/c=d" }], envs: [{ key: "MODE", value: Buffer.from("prod") }] },
    cdi: inj(
      { env: ["MODE=cdi", "VENDOR=1"], hooks: [{ hookName: "createContainer", path: "/usr/bin/hook", args: ["hook", "x"], timeout: 5 }] },
      {
        deviceNodes: [{ path: "/dev/berth-null", hostPath: "/dev/null", permissions: "rw" }, { path: "/dev/disk0", hostPath: "/dev/sda", permissions: "none" }],
        mounts: [{ hostPath: "/opt/vendor", containerPath: "/usr/lib/vendor", options: ["ro", "rbind"], type: "bind" }, { hostPath: "/tmp/x", containerPath: "/etc/hosts", options: ["rbind", "ro"] }],
        additionalGids: [0, 44, 44],
      },
    ),
    lookupDevice: lookup,
    user: { uid: 0, gid: 0, additionalGids: [] },
  }));
  assert.deepEqual(runcSpecProblems(spec), []);
  const env = spec.process!.env!;
  assert.ok(env.includes("MODE=cdi") && !env.includes("MODE=prod"), "a CDI env var replaces the same name");
  assert.equal(env.at(-1), "VENDOR=1");
  assert.deepEqual(spec.linux!.devices!.find((d) => d.path === "/dev/berth-null"), { type: "c", path: "/dev/berth-null", major: 1, minor: 3, fileMode: 0o666 });
  assert.deepEqual(spec.linux!.devices!.find((d) => d.path === "/dev/disk0"), { type: "b", path: "/dev/disk0", major: 8, minor: 0, fileMode: 0o660 });
  const rules = spec.linux!.resources!.devices!;
  assert.deepEqual(rules[0], { allow: false, access: "rwm" });
  assert.deepEqual(rules.at(-1), { allow: true, type: "c", major: 1, minor: 3, access: "rw" });
  assert.ok(!rules.some((r) => r.major === 8), "permissions none: no cgroup rule");
  const hosts = spec.mounts!.filter((m) => m.destination === "/etc/hosts");
  assert.deepEqual(hosts, [{ destination: "/etc/hosts", source: "/tmp/x", options: ["rbind", "ro"] }], "a CDI mount replaces the same destination");
  const depths = spec.mounts!.map((m) => m.destination.split("/").filter(Boolean).length);
  assert.deepEqual(depths, [...depths].sort((a, b) => a - b), "parents before children");
  assert.ok(spec.mounts!.some((m) => m.destination === "/usr/lib/vendor" && m.type === "bind"));
  assert.deepEqual(spec.hooks, { createContainer: [{ path: "/usr/bin/hook", args: ["hook", "x"], timeout: 5 }] });
  assert.deepEqual(spec.process!.user.additionalGids, [44], "0 ignored, no duplicates");
});

test("device nodes: a non-root process owns them unless the spec says; a spec-given node needs no host node", () => {
  const spec = buildSpec(input({ user: { uid: 1000, gid: 1000, additionalGids: [] } }));
  applyCdiEdits(spec, inj({ deviceNodes: [{ path: "/dev/a", hostPath: "/dev/null" }, { path: "/dev/b", hostPath: "/dev/null", uid: 7, gid: 8, fileMode: 0o600 }, { path: "/dev/v", type: "c", major: 200, minor: 1 }] }), lookup);
  const dev = (p: string) => spec.linux!.devices!.find((d) => d.path === p);
  assert.equal(dev("/dev/a")!.uid, 1000);
  assert.equal(dev("/dev/a")!.gid, 1000);
  assert.deepEqual([dev("/dev/b")!.uid, dev("/dev/b")!.gid, dev("/dev/b")!.fileMode], [7, 8, 0o600]);
  assert.deepEqual([dev("/dev/v")!.major, dev("/dev/v")!.minor], [200, 1]);
});

test("a device node missing on the host, or of another type, is FailedPrecondition naming it", () => {
  const spec = () => buildSpec(input());
  const fails = (e: Partial<CdiContainerEdits>, re: RegExp) => assert.throws(() => applyCdiEdits(spec(), inj(e), lookup), (x: unknown) => x instanceof BerthError && x.code === Code.FAILED_PRECONDITION && re.test(x.message), re.source);
  fails({ deviceNodes: [{ path: "/dev/gone" }] }, /part 0: device node \/dev\/gone for \/dev\/gone does not exist/);
  fails({ deviceNodes: [{ path: "/dev/x", hostPath: "/dev/sda", type: "c" }] }, /type "c" in the spec but \/dev\/sda on the host is type "b"/);
});
