// Capability sets: defaults, add/drop with ALL, ambient, privileged.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ALL_CAPABILITIES, boundingMask, buildCapabilities, capabilitiesInMask, DEFAULT_CAPABILITIES } from "../../../../src/containers/spec/capabilities.js";
import { Code } from "../../../../src/errors.js";
import { Capability, type DeepPartial } from "../../../../src/generated/runtime/v1/api.js";
import { INVALID, throwsCode } from "./fixtures.js";

function caps(requested: DeepPartial<Capability> | undefined, privileged = false, host?: readonly string[]) {
  return buildCapabilities({
    requested: requested ? Capability.fromPartial(requested) : undefined,
    privileged,
    defaults: DEFAULT_CAPABILITIES,
    all: ALL_CAPABILITIES,
    ...(host ? { host } : {}),
  });
}

/** A nested node's bounding set: everything but CAP_SYS_RESOURCE (bit 24) and CAP_NET_RAW (bit 13). */
const NESTED = "000001fffeffdfff";

const sorted = (l: readonly string[] | undefined): string[] => [...(l ?? [])].sort();

test("default set: Docker's fourteen in bounding, effective and permitted; no inheritable or ambient", () => {
  const c = caps(undefined);
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.deepEqual(sorted(c.bounding), sorted(DEFAULT_CAPABILITIES));
  assert.deepEqual(c.effective, c.bounding);
  assert.deepEqual(c.permitted, c.bounding);
  assert.equal(c.inheritable, undefined);
  assert.equal(c.ambient, undefined);
  assert.ok(!c.bounding?.includes("CAP_SYS_ADMIN"));
  assert.ok(!c.bounding?.includes("CAP_NET_ADMIN"));
});

test("add and drop, with or without the CAP_ prefix, any case", () => {
  const c = caps({ addCapabilities: ["NET_ADMIN", "cap_sys_time"], dropCapabilities: ["MKNOD", "CAP_NET_RAW"] });
  assert.ok(c.bounding?.includes("CAP_NET_ADMIN"));
  assert.ok(c.bounding?.includes("CAP_SYS_TIME"));
  assert.ok(!c.bounding?.includes("CAP_MKNOD"));
  assert.ok(!c.bounding?.includes("CAP_NET_RAW"));
  assert.equal(c.bounding?.length, 14);
});

test("ALL: drop ALL then add one; add ALL then drop one; drop ALL beats add ALL", () => {
  assert.deepEqual(caps({ dropCapabilities: ["ALL"], addCapabilities: ["NET_BIND_SERVICE"] }).bounding, ["CAP_NET_BIND_SERVICE"]);
  const allButChown = caps({ addCapabilities: ["ALL"], dropCapabilities: ["CHOWN"] });
  assert.equal(allButChown.bounding?.length, ALL_CAPABILITIES.length - 1);
  assert.ok(!allButChown.bounding?.includes("CAP_CHOWN"));
  assert.deepEqual(caps({ addCapabilities: ["all"], dropCapabilities: ["all"] }).bounding, []);
  assert.deepEqual(caps({ dropCapabilities: ["ALL"] }).bounding, []);
});

test("privileged: every known capability whatever is dropped", () => {
  const c = caps({ dropCapabilities: ["ALL"] }, true);
  assert.deepEqual(c.bounding, [...ALL_CAPABILITIES]);
  assert.deepEqual(c.permitted, [...ALL_CAPABILITIES]);
  assert.deepEqual(c.effective, [...ALL_CAPABILITIES]);
});

test("ambient only when asked: in ambient and inheritable, and kept in the other sets", () => {
  const c = caps({ dropCapabilities: ["ALL"], addAmbientCapabilities: ["NET_BIND_SERVICE", "CAP_NET_BIND_SERVICE"] });
  assert.deepEqual(c.ambient, ["CAP_NET_BIND_SERVICE"]);
  assert.deepEqual(c.inheritable, ["CAP_NET_BIND_SERVICE"]);
  assert.deepEqual(c.bounding, ["CAP_NET_BIND_SERVICE"]);
  assert.deepEqual(c.permitted, ["CAP_NET_BIND_SERVICE"]);
});

test("unknown names and ambient ALL are INVALID_ARGUMENT", () => {
  throwsCode(() => caps({ addCapabilities: ["NET_MAGIC"] }), INVALID, /add_capabilities: unknown capability "NET_MAGIC"/);
  throwsCode(() => caps({ dropCapabilities: ["FLY"] }), INVALID, /drop_capabilities: unknown capability "FLY"/);
  throwsCode(() => caps({ addAmbientCapabilities: ["ALL"] }), INVALID, /"ALL" is not allowed/);
});

test("the bounding set from /proc/self/status: names by bit, in kernel order, unknown bits left out", () => {
  const status = "Name:\tberth\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n";
  assert.equal(boundingMask(status), "000001fffeffffff");
  const names = capabilitiesInMask(boundingMask(status));
  assert.equal(names.length, ALL_CAPABILITIES.length - 1);
  assert.ok(!names.includes("CAP_SYS_RESOURCE"));
  assert.deepEqual(capabilitiesInMask("ffffffffffffffff"), [...ALL_CAPABILITIES], "bits past CAP_CHECKPOINT_RESTORE have no runc name");
  assert.deepEqual(capabilitiesInMask("0000000000000001"), ["CAP_CHOWN"]);
  assert.throws(() => boundingMask("Name:\tx\n"), /no CapBnd/);
});

test("privileged and ALL mean the host's bounding set; a lacked default is left out", () => {
  const host = capabilitiesInMask(NESTED);
  assert.deepEqual(caps(undefined, true, host).bounding, host);
  assert.deepEqual(caps({ addCapabilities: ["ALL"] }, false, host).permitted, host);
  assert.deepEqual(caps({ addCapabilities: ["ALL"], dropCapabilities: ["CHOWN"] }, false, host).bounding, host.filter((c) => c !== "CAP_CHOWN"));
  const plain = caps(undefined, false, host).bounding ?? [];
  assert.deepEqual(sorted(plain), sorted(DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_NET_RAW")));
  assert.deepEqual(caps({ dropCapabilities: ["SYS_RESOURCE"] }, false, host).bounding, plain, "dropping a lacked capability is fine");
});

test("naming a capability the host lacks is FAILED_PRECONDITION naming it and the bounding set", () => {
  const host = capabilitiesInMask(NESTED);
  throwsCode(() => caps({ addCapabilities: ["SYS_RESOURCE"] }, false, host), Code.FAILED_PRECONDITION, /add_capabilities: CAP_SYS_RESOURCE is not in this node's capability bounding set/);
  throwsCode(() => caps({ addAmbientCapabilities: ["cap_net_raw"] }, false, host), Code.FAILED_PRECONDITION, /add_ambient_capabilities: CAP_NET_RAW is not in this node's capability bounding set/);
  throwsCode(() => caps({ addCapabilities: ["NET_MAGIC"] }, false, host), INVALID, /unknown capability "NET_MAGIC"/);
});
