// Pod sandboxes end to end against the real daemon, Debian's CNI plugins and the kernel: a
// pod's IP, namespaces, files, shm and cgroup; Status/List; Stop/Remove idempotence; bad input.
import assert from "node:assert/strict";
import { readFile, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { status, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { CgroupDriver, ListPodSandboxRequest, NamespaceMode, PodSandboxState } from "../../src/generated/runtime/v1/api.js";
import { inNetns, podEnv, podInfo, podRequest, podStatus, removePod, run, runPod, stopPod } from "./pods-kit.js";

const TMPFS_MAGIC = 0x01021994;
const code = (c: number, re?: RegExp) => (e: ServiceError) => e.code === c && (!re || re.test(e.details));

test("a pod gets an IP on the bridge, its own namespaces, files, shm and cgroup; Status and List show it", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const c = d.client;
  const id = await runPod(d, { name: "web", sysctls: {} });
  assert.match(id, /^[0-9a-f]{64}$/);

  const s = await podStatus(d, id.slice(0, 12));
  assert.equal(s.status!.id, id);
  assert.equal(s.status!.state, PodSandboxState.SANDBOX_READY);
  assert.equal(s.status!.metadata!.name, "web");
  assert.equal(s.status!.runtimeHandler, "runc");
  assert.deepEqual(s.status!.labels, { app: "web" });
  assert.equal(s.status!.annotations["test/owner"], "pods.test");
  assert.equal(s.status!.linux!.namespaces!.options!.pid, NamespaceMode.CONTAINER);
  const ip = s.status!.network!.ip;
  assert.ok(ip.startsWith(env.prefix), `pod IP ${ip} is in ${env.subnet}`);
  const createdMs = Number(s.status!.createdAt / 1_000_000n);
  assert.ok(Math.abs(Date.now() - createdMs) < 60_000, "created_at is in nanoseconds, recent");

  const info = await podInfo(d, id);
  assert.equal(info.pid, 0, "no infra process without a shared PID namespace");
  assert.ok(info.netnsPath.startsWith(d.state));
  assert.match(await inNetns(info.netnsPath, "ip", "-o", "-4", "addr", "show", "dev", "eth0"), new RegExp(`inet ${ip.replace(/\./g, "\\.")}/24`));
  assert.match(await inNetns(info.netnsPath, "ip", "-o", "link", "show", "lo"), /UP/, "lo is up");
  assert.match((await run("ip", ["-o", "link", "show", "master", env.bridge])).stdout, /veth/, "the host end is on the test bridge");
  assert.equal((await run("nsenter", [`--uts=${info.namespaces.uts}`, "hostname"])).stdout.trim(), "web");
  assert.ok(info.namespaces.ipc, "IPC namespace pinned");
  assert.equal(info.cniResult?.ips?.[0]?.address, `${ip}/24`);

  // Files for containers to bind-mount.
  assert.equal(await readFile(info.files.hostname, "utf8"), "web\n");
  assert.match(await readFile(info.files.hosts, "utf8"), new RegExp(`^${ip.replace(/\./g, "\\.")}\\tweb$`, "m"));
  assert.equal(await readFile(info.files.resolvConf, "utf8"), await readFile("/etc/resolv.conf", "utf8"), "no DNS config: the host's resolv.conf");
  // Its own /dev/shm, capped at pods.shm_size (64 MiB by default).
  const shm = await statfs(info.shm);
  assert.equal(shm.type, TMPFS_MAGIC);
  assert.equal(shm.blocks * shm.bsize, 64 * 1024 * 1024);
  assert.equal((await stat(info.shm)).mode & 0o7777, 0o1777);
  // The pod cgroup under the configured parent, in every hierarchy.
  assert.equal(info.cgroup.path, `${env.cgroupParent}/poduid-web`);
  for (const h of ["memory", "cpu", "pids", "systemd", "unified"]) await stat(join("/sys/fs/cgroup", h, info.cgroup.path));

  const list = await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}));
  assert.deepEqual(list.items.map((p) => p.id), [id]);
  const byLabel = (k: string, v: string) => call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({ filter: { labelSelector: { [k]: v } } }));
  assert.equal((await byLabel("app", "web")).items.length, 1);
  assert.equal((await byLabel("app", "other")).items.length, 0);
  const byState = (state: PodSandboxState) => call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({ filter: { state: { state } } }));
  assert.equal((await byState(PodSandboxState.SANDBOX_READY)).items.length, 1);
  assert.equal((await byState(PodSandboxState.SANDBOX_NOTREADY)).items.length, 0);
  const byId = (p: string) => call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({ filter: { id: p } }));
  assert.equal((await byId(id.slice(0, 5))).items.length, 1);
  assert.equal((await byId(id === "f".repeat(64) ? "0" : "f".repeat(64))).items.length, 0);

  await stopPod(d, id);
  assert.equal((await podStatus(d, id)).status!.state, PodSandboxState.SANDBOX_NOTREADY);
  assert.equal((await podStatus(d, id)).status!.network!.ip, "", "the address is given back at Stop");
  assert.equal((await byState(PodSandboxState.SANDBOX_NOTREADY)).items.length, 1);
  await removePod(d, id);
  await assert.rejects(podStatus(d, id), code(status.NOT_FOUND, /pod sandbox/));
  await env.leaks.assertNoLeaks();
});

test("Stop and Remove are idempotent: twice, on unknown IDs, and Remove of a READY pod stops it first", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const a = await runPod(d, { name: "a" });
  const b = await runPod(d, { name: "b" });
  await stopPod(d, a);
  await stopPod(d, a);
  await removePod(d, a);
  await removePod(d, a);
  await stopPod(d, a);
  await stopPod(d, "0".repeat(64));
  await removePod(d, "deadbeef");
  // b is READY: Remove stops (CNI DEL) and removes it.
  await removePod(d, b);
  await assert.rejects(podStatus(d, b), code(status.NOT_FOUND));
  const c = d.client;
  await assert.rejects(call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: "" }), code(status.INVALID_ARGUMENT, /pod_sandbox_id/));
  await env.leaks.assertNoLeaks();
});

test("the same RunPodSandbox sent twice at once gives one pod; again after success gives the same ID", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const c = d.client;
  const req = podRequest({ name: "twice", uid: "uid-twice" });
  const [x, y] = await Promise.all([
    call(c, c.runtime, c.runtime.runPodSandbox, req, 60_000),
    call(c, c.runtime, c.runtime.runPodSandbox, req, 60_000),
  ]);
  assert.equal(x.podSandboxId, y.podSandboxId);
  const again = await call(c, c.runtime, c.runtime.runPodSandbox, req, 60_000);
  assert.equal(again.podSandboxId, x.podSandboxId);
  const list = await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}));
  assert.equal(list.items.length, 1);
  // A new attempt is a new sandbox (kubelet bumps attempt to recreate); both share the pod cgroup.
  const next = await runPod(d, { name: "twice", uid: "uid-twice", attempt: 1 });
  assert.notEqual(next, x.podSandboxId);
  const [i1, i2] = await Promise.all([podInfo(d, x.podSandboxId), podInfo(d, next)]);
  assert.equal(i1.cgroup.path, i2.cgroup.path);
  await removePod(d, x.podSandboxId);
  await stat(join("/sys/fs/cgroup/memory", i2.cgroup.path));
  await removePod(d, next);
  await env.leaks.assertNoLeaks();
});

test("bad requests are InvalidArgument naming the problem, and leave nothing behind", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const c = d.client;
  const runReq = (r: ReturnType<typeof podRequest>) => call(c, c.runtime, c.runtime.runPodSandbox, r);
  const noName = podRequest({ name: "x" });
  noName.config!.metadata!.name = "";
  await assert.rejects(runReq(noName), code(status.INVALID_ARGUMENT, /metadata\.name is required/));
  const noUid = podRequest({ name: "x" });
  noUid.config!.metadata!.uid = "";
  await assert.rejects(runReq(noUid), code(status.INVALID_ARGUMENT, /metadata\.uid is required/));
  const noNs = podRequest({ name: "x" });
  noNs.config!.metadata!.namespace = "";
  await assert.rejects(runReq(noNs), code(status.INVALID_ARGUMENT, /metadata\.namespace is required/));
  await assert.rejects(runReq(podRequest({ name: "x", runtimeHandler: "kata" })), code(status.INVALID_ARGUMENT, /"kata" is not configured; known handlers: runc/));
  const slice = podRequest({ name: "x" });
  slice.config!.linux!.cgroupParent = "kubepods-burstable.slice";
  await assert.rejects(runReq(slice), code(status.INVALID_ARGUMENT, /systemd slice but the cgroup driver is cgroupfs/));
  const escape = podRequest({ name: "x" });
  escape.config!.linux!.cgroupParent = "/kubepods/../../etc";
  await assert.rejects(runReq(escape), code(status.INVALID_ARGUMENT, /segment "\.\."/));
  const dns = podRequest({ name: "x", config: { dnsConfig: { servers: ["not-an-ip"], searches: [], options: [] } } });
  await assert.rejects(runReq(dns), code(status.INVALID_ARGUMENT, /not-an-ip/));
  const port = podRequest({ name: "x", config: { portMappings: [{ protocol: 0, containerPort: 80, hostPort: 70000, hostIp: "" }] } });
  await assert.rejects(runReq(port), code(status.INVALID_ARGUMENT, /70000/));
  await assert.rejects(podStatus(d, "zz"), code(status.NOT_FOUND));
  await assert.rejects(call(c, c.runtime, c.runtime.podSandboxStatus, { podSandboxId: "", verbose: false }), code(status.INVALID_ARGUMENT));
  const list = await call(c, c.runtime, c.runtime.listPodSandbox, ListPodSandboxRequest.fromPartial({}));
  assert.equal(list.items.length, 0);
  await env.leaks.assertNoLeaks();
});

test("the systemd cgroup driver without systemd running fails clearly and leaves nothing", async (t) => {
  // This host's init is not systemd, so the driver is reachable only through config.
  const env = await podEnv(t, { runtimeToml: `cgroup_driver = "systemd"`, cgroupParent: "berth_e2e.slice" });
  const { d } = env;
  const c = d.client;
  const rc = await call(c, c.runtime, c.runtime.runtimeConfig, {});
  assert.equal(rc.linux!.cgroupDriver, CgroupDriver.SYSTEMD);
  await assert.rejects(runPod(d, { name: "sd" }), code(status.FAILED_PRECONDITION, /systemd is not running.*cgroup_driver = "cgroupfs"/));
  const req = podRequest({ name: "sd2" });
  req.config!.linux!.cgroupParent = "kubepods-besteffort-pod1.slice";
  await assert.rejects(call(c, c.runtime, c.runtime.runPodSandbox, req), code(status.FAILED_PRECONDITION, /systemd is not running/));
  assert.match(env.d.logs(), /cgroup_driver is systemd but systemd is not running/);
  await env.leaks.assertNoLeaks();
});

test("RunPodSandbox for a stopped pod's name and attempt is AlreadyExists (not the NOTREADY ID); after Remove it makes a new ready pod", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const a = await runPod(d, { name: "again", uid: "uid-again" });
  await stopPod(d, a);
  await assert.rejects(runPod(d, { name: "again", uid: "uid-again" }), code(status.ALREADY_EXISTS, new RegExp(`${a}.*NOTREADY.*remove it`)));
  await removePod(d, a);
  const b = await runPod(d, { name: "again", uid: "uid-again" });
  assert.notEqual(b, a);
  assert.equal((await podStatus(d, b)).status!.state, 0, "SANDBOX_READY");
  await removePod(d, b);
  await env.leaks.assertNoLeaks();
});
