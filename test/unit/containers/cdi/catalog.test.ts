// Resolving requested CDI devices against the loaded specs: later directories override, a
// name defined twice in one directory is unusable, spec-level edits come once before the device's.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildCatalog, resolveDevices } from "../../../../src/containers/cdi/catalog.js";
import { parseCdiSpec } from "../../../../src/containers/cdi/parse.js";
import { validateCdiSpec } from "../../../../src/containers/cdi/validate.js";
import { BerthError, Code } from "../../../../src/errors.js";

const DIRS = ["/etc/cdi", "/var/run/cdi"];
function spec(path: string, priority: number, kind: string, devices: Record<string, string>, global?: string) {
  const raw = { cdiVersion: "0.6.0", kind, devices: Object.entries(devices).map(([name, env]) => ({ name, containerEdits: { env: [env] } })), ...(global ? { containerEdits: { env: [global] } } : {}) };
  return validateCdiSpec(parseCdiSpec(JSON.stringify(raw)), path, priority);
}
const req = (...names: string[]) => names.map((name, i) => ({ name, from: `CDI_devices[${i}]` }));
function rejects(fn: () => unknown, code: Code, re: RegExp) {
  assert.throws(fn, (e: unknown) => e instanceof BerthError && e.code === code && re.test(e.message), re.source);
}

test("spec-level edits once per spec, before its first device; then each device's, in request order", () => {
  const a = spec("/etc/cdi/a.json", 0, "a.com/x", { "0": "A0=1", "1": "A1=1" }, "AG=1");
  const b = spec("/etc/cdi/b.json", 0, "b.com/y", { d: "BD=1" }, "BG=1");
  const inj = resolveDevices(buildCatalog([a, b], new Map(), DIRS), req("a.com/x=1", "b.com/y=d", "a.com/x=0"));
  assert.deepEqual(inj.devices, ["a.com/x=1", "b.com/y=d", "a.com/x=0"]);
  assert.deepEqual(inj.parts.map((p) => p.edits.env[0]), ["AG=1", "A1=1", "BG=1", "BD=1", "A0=1"]);
  assert.match(inj.parts[1]!.source, /CDI device "a\.com\/x=1" \(\/etc\/cdi\/a\.json\)/);
});

test("a later directory overrides an earlier one; two definitions in one directory cancel out", () => {
  const early = spec("/etc/cdi/v.yaml", 0, "v.com/c", { d: "FROM=etc", e: "E=1" });
  const late = spec("/var/run/cdi/v.yaml", 1, "v.com/c", { d: "FROM=run" });
  const cat = buildCatalog([early, late], new Map(), DIRS);
  assert.equal(resolveDevices(cat, req("v.com/c=d")).parts[1]!.edits.env[0], "FROM=run");
  const twin = spec("/var/run/cdi/w.yaml", 1, "v.com/c", { d: "FROM=twin" });
  const clash = buildCatalog([early, late, twin], new Map(), DIRS);
  rejects(() => resolveDevices(clash, req("v.com/c=d")), Code.INVALID_ARGUMENT, /"v\.com\/c=d" \(CDI_devices\[0\]\) is defined more than once in one directory \(\/var\/run\/cdi\/v\.yaml, \/var\/run\/cdi\/w\.yaml\)/);
  assert.equal(resolveDevices(clash, req("v.com/c=e")).parts.length, 2);
});

test("an unknown device: InvalidArgument naming it, the dirs searched, the kind's devices and the broken files", () => {
  const cat = buildCatalog([spec("/etc/cdi/v.yaml", 0, "v.com/c", { d: "X=1" })], new Map([["/etc/cdi/bad.yaml", "kind \"x\" is not vendor/class"]]), DIRS);
  rejects(() => resolveDevices(cat, req("v.com/c=nope")), Code.INVALID_ARGUMENT,
    /CDI device "v\.com\/c=nope" \(CDI_devices\[0\]\) not found in the CDI specs in \/etc\/cdi, \/var\/run\/cdi \(config key cdi\.spec_dirs\); that kind defines v\.com\/c=d; spec files that failed to load: \/etc\/cdi\/bad\.yaml: kind/);
  rejects(() => resolveDevices(cat, [{ name: "gpu0", from: "annotation cdi.k8s.io/p" }]), Code.INVALID_ARGUMENT, /annotation cdi\.k8s\.io\/p: "gpu0" is not a fully qualified CDI device name/);
});

test("intelRdt and netDevices edits are refused with FailedPrecondition naming the device", () => {
  const raw = { cdiVersion: "1.1.0", kind: "v.com/net", devices: [{ name: "n", containerEdits: { netDevices: [{ hostInterfaceName: "eth9", name: "net1" }] } }, { name: "r", containerEdits: { intelRdt: { closID: "gold" } } }] };
  const cat = buildCatalog([validateCdiSpec(parseCdiSpec(JSON.stringify(raw)), "/etc/cdi/n.json", 0)], new Map(), DIRS);
  rejects(() => resolveDevices(cat, req("v.com/net=n")), Code.FAILED_PRECONDITION, /CDI device "v\.com\/net=n" .*netDevices/);
  rejects(() => resolveDevices(cat, req("v.com/net=r")), Code.FAILED_PRECONDITION, /CDI device "v\.com\/net=r" .*intelRdt edits are not supported/);
});
