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

test("namespace options: host network and IPC, container PID; TARGET and pod user namespaces refused", () => {
  const s = podSpec(req({ linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE, ipc: NamespaceMode.NODE, pid: NamespaceMode.CONTAINER } } } }), ctx);
  assert.deepEqual(s.ns, { network: "node", ipc: "node", pid: "container" });
  assert.throws(() => podSpec(req({ linux: { securityContext: { namespaceOptions: { pid: NamespaceMode.TARGET } } } }), ctx), invalid(/pid TARGET is not supported/));
  assert.throws(
    () => podSpec(req({ linux: { securityContext: { namespaceOptions: { usernsOptions: { mode: NamespaceMode.POD, uids: [], gids: [] } } } } }), ctx),
    invalid(/user namespaces are not supported/),
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
