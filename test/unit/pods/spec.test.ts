// RunPodSandbox request checking, without root: defaults as CRI defines them, the hostname,
// sysctls split by when they can apply, handlers, namespace modes and the cgroup naming hook.
import assert from "node:assert/strict";
import { test } from "node:test";
import { NamespaceMode, RunPodSandboxRequest } from "../../../src/generated/runtime/v1/api.js";
import { podSpec, type SpecContext } from "../../../src/pods/spec.js";
import { podCgroup } from "../../../src/oci/cgroups-names.js";
import { type BerthError, Code } from "../../../src/errors.js";

const ctx: SpecContext = {
  defaultHandler: "runc",
  knownHandlers: ["runc"],
  podCgroup: (parent, uid) => podCgroup("cgroupfs", parent, "", uid),
};
const invalid = (re: RegExp) => (e: BerthError) => e.code === Code.INVALID_ARGUMENT && re.test(e.message);
const req = (config: object, runtimeHandler = "") =>
  RunPodSandboxRequest.fromPartial({ runtimeHandler, config: { metadata: { name: "Web_App", namespace: "ns", uid: "u1", attempt: 2 }, ...config } });

test("CRI defaults: pod network, IPC and PID namespaces, the default handler, a hostname from the pod name", () => {
  const s = podSpec(req({}), ctx);
  assert.deepEqual(s.ns, { network: "pod", ipc: "pod", pid: "pod" });
  assert.equal(s.runtimeHandler, "runc");
  assert.equal(s.hostname, "web-app");
  assert.equal(s.cgroup.path, "/berth/podu1");
  assert.equal(s.key, JSON.stringify(["ns", "Web_App", "u1", 2]));
  assert.equal(s.dns, undefined);
});

test("namespace options: host network and IPC, container PID; TARGET refused", () => {
  const s = podSpec(req({ linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE, ipc: NamespaceMode.NODE, pid: NamespaceMode.CONTAINER } } } }), ctx);
  assert.deepEqual(s.ns, { network: "node", ipc: "node", pid: "container" });
  assert.throws(() => podSpec(req({ linux: { securityContext: { namespaceOptions: { pid: NamespaceMode.TARGET } } } }), ctx), invalid(/pid TARGET is not supported/));
});

test("pod user namespace: kubelet's mappings kept; empty or bad ranges, host namespaces and a host that cannot idmap refused", () => {
  const map = { hostId: 65536, containerId: 0, length: 65536 };
  const userns = (o: object = {}, more: object = {}) => req({ linux: { securityContext: { namespaceOptions: { pid: NamespaceMode.CONTAINER, usernsOptions: { mode: NamespaceMode.POD, uids: [map], gids: [map], ...o }, ...more } } } });
  assert.deepEqual(podSpec(userns(), ctx).userns, { uids: [map], gids: [map] });
  assert.equal(podSpec(req({ linux: { securityContext: { namespaceOptions: { usernsOptions: { mode: NamespaceMode.NODE, uids: [], gids: [] } } } } }), ctx).userns, undefined);
  assert.throws(() => podSpec(userns({ uids: [] }), ctx), invalid(/userns_options\.uids is empty/));
  assert.throws(() => podSpec(userns({ gids: [{ ...map, length: 0 }] }), ctx), invalid(/userns_options\.gids\[0\] .* is not a valid ID range/));
  assert.throws(() => podSpec(userns({ uids: [{ ...map, hostId: 0xffffffff }] }), ctx), invalid(/uids\[0\]/));
  assert.throws(() => podSpec(userns({}, { network: NamespaceMode.NODE }), ctx), invalid(/also asks for hostNetwork/));
  assert.throws(() => podSpec(userns({}, { pid: NamespaceMode.NODE }), ctx), invalid(/also asks for hostPid/));
  assert.throws(() => podSpec(userns({}, { pid: NamespaceMode.POD }), ctx), invalid(/shared PID namespace .* with a pod user namespace .* is not supported by Berth yet/));
  assert.throws(() => podSpec(userns({ mode: NamespaceMode.TARGET }), ctx), invalid(/mode TARGET is not supported/));
  assert.throws(
    () => podSpec(userns(), { ...ctx, usernsUnavailable: new Map([["runc", "runc features does not list the user namespace"]]) }),
    (e: BerthError) => e.code === Code.FAILED_PRECONDITION && /hostUsers: false.*cannot work on this node with this runtime handler: runc features does not list/.test(e.message),
  );
});

test("the sandbox's run_as_group without run_as_user is refused (CRI: the runtime MUST error)", () => {
  const sc = (o: object) => req({ linux: { securityContext: o } });
  assert.throws(() => podSpec(sc({ runAsGroup: { value: 1000n } }), ctx), invalid(/pod sandbox "Web_App": linux\.security_context\.run_as_group is set without run_as_user/));
  assert.equal(podSpec(sc({ runAsUser: { value: 0n }, runAsGroup: { value: 1000n } }), ctx).meta.name, "Web_App");
  assert.equal(podSpec(sc({ runAsUser: { value: 65534n } }), ctx).meta.name, "Web_App");
});

test("interface sysctls wait for CNI; the rest go in at pin time; bad ones are refused", () => {
  const s = podSpec(req({ linux: { sysctls: { "net.ipv4.conf.eth0.rp_filter": "2", "net/ipv4/conf/eth0.100/forwarding": "1", "net.ipv4.conf.all.rp_filter": "1", "kernel.shmmax": "1" } } }), ctx);
  assert.deepEqual(s.lateSysctls, { "net.ipv4.conf.eth0.rp_filter": "2", "net/ipv4/conf/eth0.100/forwarding": "1" });
  assert.deepEqual(s.sysctls, { "net.ipv4.conf.all.rp_filter": "1", "kernel.shmmax": "1" });
  assert.throws(() => podSpec(req({ linux: { sysctls: { "vm.swappiness": "1" } } }), ctx), invalid(/vm\.swappiness is not namespaced/));
});

test("metadata, handler, hostname, DNS, ports and CNI_ARGS-breaking values are checked up front", () => {
  assert.throws(() => podSpec(RunPodSandboxRequest.fromPartial({}), ctx), invalid(/config is required/));
  assert.throws(() => podSpec(req({}, "kata"), ctx), invalid(/"kata" is not configured; known handlers: runc/));
  assert.throws(() => podSpec(req({ hostname: "bad_host" }), ctx), invalid(/not a valid host name/));
  assert.throws(() => podSpec(req({ dnsConfig: { servers: ["1.1.1.1"], searches: ["a b"], options: [] } }), ctx), invalid(/search "a b"/));
  assert.throws(() => podSpec(req({ portMappings: [{ protocol: 9, containerPort: 1, hostPort: 2, hostIp: "" }] }), ctx), invalid(/unknown protocol/));
  // Found by the CRI fuzz target: a container-only port out of range was accepted.
  assert.throws(() => podSpec(req({ portMappings: [{ protocol: 0, containerPort: 599759796, hostPort: 0, hostIp: "" }] }), ctx), invalid(/containerPort 599759796 is not a port number \(0-65535\)/));
  assert.throws(() => podSpec(req({ portMappings: [{ protocol: 0, containerPort: 80, hostPort: -1, hostIp: "" }] }), ctx), invalid(/hostPort -1 is not a port number/));
  assert.equal(podSpec(req({ portMappings: [{ protocol: 0, containerPort: 80, hostPort: 0, hostIp: "" }] }), ctx).ports.length, 1);
  const semi = RunPodSandboxRequest.fromPartial({ config: { metadata: { name: "a;b", namespace: "ns", uid: "u", attempt: 0 } } });
  assert.throws(() => podSpec(semi, ctx), invalid(/CNI_ARGS/));
  const slash = RunPodSandboxRequest.fromPartial({ config: { metadata: { name: "a/b", namespace: "ns", uid: "u", attempt: 0 } } });
  assert.throws(() => podSpec(slash, ctx), invalid(/metadata\.name "a\/b"/));
  const ann = req({ annotations: { "kubernetes.io/ingress-bandwidth": "1" } });
  assert.throws(() => podSpec(ann, ctx), invalid(/unreasonably small/));
});

test("handlers: a named one is recorded; one whose start-up probe failed is FailedPrecondition quoting why", () => {
  const more: SpecContext = { ...ctx, knownHandlers: ["runc", "alt", "crun"], unusableHandlers: new Map([["crun", "`crun run` of a probe container failed: cgroups hybrid mode not supported"]]) };
  assert.equal(podSpec(req({}, "alt"), more).runtimeHandler, "alt");
  assert.equal(podSpec(req({}), more).runtimeHandler, "runc", "empty: the default");
  assert.throws(
    () => podSpec(req({}, "crun"), more),
    (e: BerthError) => e.code === Code.FAILED_PRECONDITION && /runtime handler "crun" cannot run pods on this node: .*hybrid mode not supported/.test(e.message),
  );
  assert.throws(() => podSpec(req({}, "kata"), more), invalid(/"kata" is not configured; known handlers: runc, alt, crun/));
});
