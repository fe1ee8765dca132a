// Capability sets: defaults, add/drop with ALL, ambient, privileged.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ALL_CAPABILITIES, buildCapabilities, DEFAULT_CAPABILITIES } from "../../../../src/containers/spec/capabilities.js";
import { Capability, type DeepPartial } from "../../../../src/generated/runtime/v1/api.js";
import { INVALID, throwsCode } from "./fixtures.js";

function caps(requested: DeepPartial<Capability> | undefined, privileged = false) {
  return buildCapabilities({
    requested: requested ? Capability.fromPartial(requested) : undefined,
    privileged,
    defaults: DEFAULT_CAPABILITIES,
    all: ALL_CAPABILITIES,
  });
}

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
