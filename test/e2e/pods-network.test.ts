// Pod networking end to end with Debian's CNI plugins: pod-to-pod TCP, a hostPort on
// 127.0.0.1, host network, DNS files, sysctls, a failing plugin, NetworkReady without a restart.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { status, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { ListPodSandboxRequest, Protocol } from "../../src/generated/runtime/v1/api.js";
import { inNetns, podEnv, podInfo, podStatus, removePod, run, runPod, stopPod, waitListening, writeFailingPlugin } from "./pods-kit.js";

const code = (c: number, re?: RegExp) => (e: ServiceError) => e.code === c && (!re || re.test(e.details));

test("two pods reach each other over TCP on the bridge", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const [a, b] = await Promise.all([runPod(d, { name: "server" }), runPod(d, { name: "client" })]);
  const [ia, ib] = await Promise.all([podInfo(d, a), podInfo(d, b)]);
  const ipA = (await podStatus(d, a)).status!.network!.ip;
  const ipB = (await podStatus(d, b)).status!.network!.ip;
  assert.notEqual(ipA, ipB);
  env.spawnOwned("nsenter", [`--net=${ia.netnsPath}`, "--", "socat", "TCP-LISTEN:7777,reuseaddr", "EXEC:/bin/echo hello-from-server"]);
  await waitListening(ia.netnsPath, 7777);
  const got = await inNetns(ib.netnsPath, "socat", "-T", "5", "-u", `TCP:${ipA}:7777`, "STDOUT");
  assert.equal(got.trim(), "hello-from-server");
  await Promise.all([removePod(d, a), removePod(d, b)]);
  await env.leaks.assertNoLeaks();
});

test("a hostPort is reachable on 127.0.0.1 and its rules go with the pod", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const hostPort = 20000 + Math.floor(Math.random() * 10000);
  const id = await runPod(d, {
    name: "hp",
    config: { portMappings: [{ protocol: Protocol.TCP, containerPort: 8080, hostPort, hostIp: "" }, { protocol: Protocol.TCP, containerPort: 9090, hostPort: 0, hostIp: "" }] },
  });
  const info = await podInfo(d, id);
  env.spawnOwned("nsenter", [`--net=${info.netnsPath}`, "--", "socat", "TCP-LISTEN:8080,reuseaddr", "EXEC:/bin/echo hello-via-hostport"]);
  await waitListening(info.netnsPath, 8080);
  const { stdout } = await run("socat", ["-T", "5", "-u", `TCP:127.0.0.1:${hostPort}`, "STDOUT"]);
  assert.equal(stdout.trim(), "hello-via-hostport");
  const rules = (await run("iptables-save", ["-t", "nat"])).stdout.split("\n").filter((l) => l.includes(id));
  assert.ok(rules.length > 0, "portmap added DNAT rules naming the pod");
  await stopPod(d, id);
  assert.equal((await run("iptables-save", ["-t", "nat"])).stdout.split("\n").filter((l) => l.includes(id)).length, 0, "Stop removed them");
  await removePod(d, id);
  await env.leaks.assertNoLeaks();
});

test("a host-network pod uses the node's network and files, with no CNI", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const id = await runPod(d, { name: "hostnet", hostNetwork: true });
  const s = await podStatus(d, id);
  assert.equal(s.status!.network!.ip, "");
  const info = await podInfo(d, id);
  assert.equal(info.netnsPath, "");
  assert.equal(info.namespaces.uts, undefined, "UTS follows the network: the host's");
  assert.ok(info.namespaces.ipc, "IPC is still the pod's own");
  assert.equal(info.cniResult, null);
  assert.equal(await readFile(info.files.hosts, "utf8"), await readFile("/etc/hosts", "utf8"));
  assert.equal(await readFile(info.files.hostname, "utf8"), "hostnet\n");
  // Host IPC too: the host's /dev/shm, nothing mounted.
  const both = await runPod(d, { name: "hostipc", hostNetwork: true, hostIpc: true });
  const bi = await podInfo(d, both);
  assert.equal(bi.shm, "/dev/shm");
  assert.equal(bi.namespaces.ipc, undefined);
  await stopPod(d, id);
  await removePod(d, id);
  await removePod(d, both);
  await env.leaks.assertNoLeaks();
});

test("DNS config is written to resolv.conf exactly as given", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const id = await runPod(d, {
    name: "dns",
    config: { dnsConfig: { servers: ["10.96.0.10", "fd00::a"], searches: ["e2e.svc.cluster.local", "svc.cluster.local"], options: ["ndots:5", "timeout:2"] } },
  });
  const info = await podInfo(d, id);
  assert.equal(
    await readFile(info.files.resolvConf, "utf8"),
    "search e2e.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver fd00::a\noptions ndots:5 timeout:2\n",
  );
  await removePod(d, id);
  await env.leaks.assertNoLeaks();
});

test("namespaced sysctls are applied in the pod (interface ones after CNI); others are refused", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const id = await runPod(d, {
    name: "sysctl",
    sysctls: {
      "kernel.shmmni": "1234",
      "net.ipv4.ip_unprivileged_port_start": "0",
      "net/ipv4/ping_group_range": "0 1000",
      "net.ipv4.conf.eth0.rp_filter": "2",
    },
  });
  const info = await podInfo(d, id);
  const inPod = (...keys: string[]) => run("nsenter", [`--net=${info.namespaces.net}`, `--ipc=${info.namespaces.ipc}`, "--", "sysctl", "-n", ...keys]);
  assert.deepEqual(
    (await inPod("kernel.shmmni", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.conf.eth0.rp_filter")).stdout.trim().split("\n"),
    ["1234", "0", "2"],
  );
  assert.equal((await inPod("net.ipv4.ping_group_range")).stdout.trim().replace(/\s+/g, " "), "0 1000");
  assert.notEqual((await run("sysctl", ["-n", "kernel.shmmni"])).stdout.trim(), "1234", "the host is untouched");

  await assert.rejects(runPod(d, { name: "bad1", sysctls: { "kernel.hostname": "x" } }), code(status.INVALID_ARGUMENT, /kernel\.hostname is not namespaced/));
  await assert.rejects(runPod(d, { name: "bad2", hostNetwork: true, sysctls: { "net.core.somaxconn": "1024" } }), code(status.INVALID_ARGUMENT, /not allowed with host network/));
  await assert.rejects(runPod(d, { name: "bad3", sysctls: { "net.ipv4.conf.eth9.rp_filter": "1" } }), (e: ServiceError) => /eth9/.test(e.details));
  const c = d.client;
  assert.equal((await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items.length, 1);
  await removePod(d, id);
  await env.leaks.assertNoLeaks();
});

test("a CNI plugin that fails leaves nothing behind, its message reaches the caller, and a retry works", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  await writeFailingPlugin(env.binDir, "berth-e2e-fail", "injected failure for the test");
  await env.writeConf([{ type: "berth-e2e-fail" }]);
  await assert.rejects(runPod(d, { name: "unlucky", uid: "uid-unlucky" }), (e: ServiceError) => /injected failure for the test/.test(e.details));
  const c = d.client;
  assert.equal((await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}))).items.length, 0);
  await env.leaks.assertNoLeaks();
  // kubelet retries with the same metadata once the network is fixed.
  await env.writeConf();
  const id = await runPod(d, { name: "unlucky", uid: "uid-unlucky" });
  assert.ok((await podStatus(d, id)).status!.network!.ip.startsWith(env.prefix));
  await removePod(d, id);
  await env.leaks.assertNoLeaks();
});

test("without a network config NetworkReady is false and pods fail cleanly; adding one flips it without a restart", async (t) => {
  const env = await podEnv(t, { conf: false });
  const { d } = env;
  const c = d.client;
  const netReady = async () => (await call(c, c.runtime, c.runtime.status, { verbose: false })).status!.conditions.find((x) => x.type === "NetworkReady")!;
  const before = await netReady();
  assert.equal(before.status, false);
  assert.equal(before.reason, "NetworkPluginNotReady");
  await assert.rejects(runPod(d, { name: "early" }), code(status.FAILED_PRECONDITION, /cannot set up network/));
  await env.leaks.assertNoLeaks();
  // Host-network pods need no CNI (kubelet runs them before the network is up).
  const host = await runPod(d, { name: "hostnet", hostNetwork: true });
  await env.writeConf();
  assert.equal((await netReady()).status, true);
  const id = await runPod(d, { name: "early" });
  assert.ok((await podStatus(d, id)).status!.network!.ip.startsWith(env.prefix));
  await removePod(d, id);
  await removePod(d, host);
  await env.leaks.assertNoLeaks();
});
