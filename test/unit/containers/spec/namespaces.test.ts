// Namespaces: pod pins joined by path, new ones where none is pinned, none for host modes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildNamespaces, type NamespaceInput } from "../../../../src/containers/spec/namespaces.js";
import { NamespaceMode, NamespaceOption, type DeepPartial } from "../../../../src/generated/runtime/v1/api.js";
import { INVALID, throwsCode } from "./fixtures.js";

const PINS = { net: "/run/netns/p", ipc: "/run/ipcns/p", uts: "/run/utsns/p" };
const opt = (p: DeepPartial<NamespaceOption>): NamespaceOption => NamespaceOption.fromPartial(p);

function ns(over: Partial<NamespaceInput> = {}) {
  return buildNamespaces({
    pod: opt({ network: NamespaceMode.POD, ipc: NamespaceMode.POD, pid: NamespaceMode.CONTAINER }),
    container: opt({ network: NamespaceMode.POD, ipc: NamespaceMode.POD, pid: NamespaceMode.CONTAINER }),
    paths: PINS,
    privileged: false,
    cgroupV2: false,
    userNamespacesEnabled: false,
    ...over,
  });
}

test("pod namespaces are joined by their pinned paths; pid and mount are new", () => {
  const p = ns();
  assert.deepEqual(p.namespaces, [
    { type: "pid" },
    { type: "network", path: "/run/netns/p" },
    { type: "ipc", path: "/run/ipcns/p" },
    { type: "uts", path: "/run/utsns/p" },
    { type: "mount" },
  ]);
  assert.equal(p.newUts, false);
  assert.equal(p.uidMappings, undefined);
});

test("a namespace the pod did not pin is new; the container may then set its hostname", () => {
  const p = ns({ paths: { net: "/run/netns/p" } });
  assert.deepEqual(p.namespaces.filter((n) => n.type !== "pid" && n.type !== "mount"), [{ type: "network", path: "/run/netns/p" }, { type: "ipc" }, { type: "uts" }]);
  assert.equal(p.newUts, true);
});

test("host network drops network and UTS; host IPC drops IPC; host PID drops PID", () => {
  const p = ns({ pod: opt({ network: NamespaceMode.NODE, ipc: NamespaceMode.NODE }), container: opt({ pid: NamespaceMode.NODE }) });
  assert.deepEqual(p.namespaces, [{ type: "mount" }]);
  assert.equal(p.newUts, false);
});

test("the pod's options decide network and IPC; the container's decide PID", () => {
  // crictl-style container config without namespace options still follows the pod.
  const p = ns({ pod: opt({ network: NamespaceMode.NODE, ipc: NamespaceMode.POD, pid: NamespaceMode.CONTAINER }), container: undefined });
  assert.deepEqual(p.namespaces.map((n) => n.type), ["pid", "ipc", "mount"]);
  const shared = ns({ container: opt({ pid: NamespaceMode.POD }), paths: { ...PINS, pid: "/proc/42/ns/pid" } });
  assert.deepEqual(shared.namespaces[0], { type: "pid", path: "/proc/42/ns/pid" });
  assert.deepEqual(ns({ container: opt({ pid: NamespaceMode.POD }) }).namespaces[0], { type: "pid" });
  assert.deepEqual(ns({ pod: undefined, container: undefined }).namespaces.map((n) => n.type), ["pid", "network", "ipc", "uts", "mount"]);
});

test("TARGET joins the target container's PID namespace, or is refused without one", () => {
  const target = opt({ pid: NamespaceMode.TARGET, targetId: "abc" });
  assert.deepEqual(ns({ container: target, targetPidNamespace: "/proc/7/ns/pid" }).namespaces[0], { type: "pid", path: "/proc/7/ns/pid" });
  throwsCode(() => ns({ container: target }), INVALID, /TARGET but target container "abc"/);
});

test("cgroup namespace on cgroup v2 for unprivileged containers only", () => {
  assert.ok(ns({ cgroupV2: true }).namespaces.some((n) => n.type === "cgroup"));
  assert.ok(!ns({ cgroupV2: true, privileged: true }).namespaces.some((n) => n.type === "cgroup"));
  assert.ok(!ns({ cgroupV2: false }).namespaces.some((n) => n.type === "cgroup"));
});

test("user namespaces: mappings when enabled, refused when not, bad modes refused", () => {
  const userns = {
    mode: NamespaceMode.POD,
    uids: [{ hostId: 100000, containerId: 0, length: 65536 }],
    gids: [{ hostId: 200000, containerId: 0, length: 65536 }],
  };
  const p = ns({ pod: opt({ usernsOptions: userns }), userNamespacesEnabled: true });
  assert.ok(p.userns);
  assert.deepEqual(p.namespaces.at(-1), { type: "user" });
  assert.deepEqual(p.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  assert.deepEqual(p.gidMappings, [{ containerID: 0, hostID: 200000, size: 65536 }]);
  assert.deepEqual(ns({ pod: opt({ usernsOptions: userns }), userNamespacesEnabled: true, paths: { ...PINS, user: "/run/userns/p" } }).namespaces.at(-1), { type: "user", path: "/run/userns/p" });
  throwsCode(() => ns({ pod: opt({ usernsOptions: userns }) }), INVALID, /user namespaces are not enabled on this node/);
  throwsCode(() => ns({ pod: opt({ usernsOptions: { ...userns, uids: [] } }), userNamespacesEnabled: true }), INVALID, /uids is empty/);
  throwsCode(() => ns({ pod: opt({ usernsOptions: { mode: NamespaceMode.CONTAINER } }), userNamespacesEnabled: true }), INVALID, /must be NODE or POD/);
  assert.equal(ns({ pod: opt({ usernsOptions: { mode: NamespaceMode.NODE } }) }).userns, false);
});

test("invalid modes are INVALID_ARGUMENT", () => {
  throwsCode(() => ns({ pod: opt({ network: NamespaceMode.CONTAINER }) }), INVALID, /network/);
  throwsCode(() => ns({ pod: opt({ ipc: NamespaceMode.TARGET }) }), INVALID, /ipc/);
  throwsCode(() => ns({ container: opt({ pid: NamespaceMode.UNRECOGNIZED }) }), INVALID, /pid/);
});
