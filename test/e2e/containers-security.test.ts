// Container security settings as the kernel sees them from inside: capabilities in
// /proc/self/status, a read-only rootfs, no_new_privs, and seccomp RuntimeDefault vs Unconfined.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { ContainerState, NamespaceMode, SecurityProfile_ProfileType } from "../../src/generated/runtime/v1/api.js";
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from "../../src/containers/spec/index.js";
import { removePod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, listCtrs, logText, runPodWithLogs, sharedRegistry, startCtr, waitState, type CtrEnv, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

// capability(7) numbers.
const CAPS = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT",
  "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
  "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
];
const mask = (names: readonly string[]): bigint => names.reduce((m, n) => m | (1n << BigInt(CAPS.indexOf(n.replace(/^CAP_/, "")))), 0n);

/** Runs one container to completion in `podId` and returns [exit code, output]. */
async function runOnce(env: CtrEnv, podId: string, o: Parameters<typeof ctrConfig>[1]): Promise<[number, string]> {
  const id = await createCtr(env, podId, ctrConfig(env, o));
  await startCtr(env.d, id);
  const s = await waitState(env.d, id, ContainerState.CONTAINER_EXITED);
  return [s.status!.exitCode, await logText(s.status!.logPath)];
}

function statusField(text: string, field: string): string {
  const m = new RegExp(`^${field}:\\s+(\\S+)$`, "m").exec(text);
  assert.ok(m, `${field} in /proc/self/status:\n${text}`);
  return m[1]!;
}

test("capabilities: the default set, add and drop, and none effective for a non-root user", async (t) => {
  const env = await ctrEnv(t, r);
  const podId = await runPodWithLogs(env);
  const status = ["cat", "/proc/self/status"];
  let [code, out] = await runOnce(env, podId, { command: status });
  assert.equal(code, 0);
  assert.equal(BigInt(`0x${statusField(out, "CapEff")}`), mask(DEFAULT_CAPABILITIES));
  assert.equal(BigInt(`0x${statusField(out, "CapBnd")}`), mask(DEFAULT_CAPABILITIES));
  [, out] = await runOnce(env, podId, { command: status, linux: { securityContext: { capabilities: { addCapabilities: ["NET_ADMIN"], dropCapabilities: ["CHOWN"], addAmbientCapabilities: [] } } } as never });
  const want = (mask(DEFAULT_CAPABILITIES) | mask(["NET_ADMIN"])) & ~mask(["CHOWN"]);
  assert.equal(BigInt(`0x${statusField(out, "CapEff")}`), want);
  [, out] = await runOnce(env, podId, { command: status, linux: { securityContext: { runAsUser: { value: 1000n } } } as never });
  assert.equal(BigInt(`0x${statusField(out, "CapEff")}`), 0n, "a non-root user keeps no effective capabilities");
  assert.equal(BigInt(`0x${statusField(out, "CapBnd")}`), mask(DEFAULT_CAPABILITIES));
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("a read-only rootfs refuses writes (/dev/shm stays writable); no_new_privs is set when asked", async (t) => {
  const env = await ctrEnv(t, r);
  const podId = await runPodWithLogs(env);
  const [code, out] = await runOnce(env, podId, {
    command: ["sh", "-c", "touch /x 2>&1; echo rc=$?; echo ok > /dev/shm/y && cat /dev/shm/y; grep NoNewPrivs /proc/self/status"],
    linux: { securityContext: { readonlyRootfs: true, noNewPrivs: true } } as never,
  });
  assert.equal(code, 0);
  assert.match(out, /Read-only file system/);
  assert.match(out, /rc=1/);
  assert.match(out, /^ok$/m);
  assert.match(out, /^NoNewPrivs:\s+1$/m);
  const [, plain] = await runOnce(env, podId, { command: ["sh", "-c", "touch /x && echo wrote; grep NoNewPrivs /proc/self/status"] });
  assert.match(plain, /^wrote$/m);
  assert.match(plain, /^NoNewPrivs:\s+0$/m);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("seccomp RuntimeDefault blocks unshare (user namespace) with EPERM; Unconfined allows it", async (t) => {
  const env = await ctrEnv(t, r);
  const podId = await runPodWithLogs(env);
  const cmd = ["sh", "-c", "unshare -U true 2>&1; echo rc=$?; grep Seccomp: /proc/self/status"];
  const seccomp = (profileType: SecurityProfile_ProfileType) => ({ linux: { securityContext: { seccomp: { profileType, localhostRef: "" } } } as never });
  const [, confined] = await runOnce(env, podId, { command: cmd, ...seccomp(SecurityProfile_ProfileType.RuntimeDefault) });
  assert.match(confined, /Operation not permitted/);
  assert.match(confined, /rc=1/);
  assert.match(confined, /^Seccomp:\s+2$/m, "filter mode");
  const [, open] = await runOnce(env, podId, { command: cmd, ...seccomp(SecurityProfile_ProfileType.Unconfined) });
  assert.match(open, /^rc=0$/m, open);
  assert.match(open, /^Seccomp:\s+0$/m);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

/** The daemon's own capability bounding set (CapBnd of its /proc status), as a mask. */
async function daemonBounding(env: CtrEnv): Promise<bigint> {
  return BigInt(`0x${statusField(await readFile(`/proc/${env.d.proc.pid}/status`, "utf8"), "CapBnd")}`);
}

const privilegedPod = { config: { linux: { securityContext: { privileged: true, namespaceOptions: { network: NamespaceMode.POD, ipc: NamespaceMode.POD, pid: NamespaceMode.CONTAINER } } } } as never };

test("privileged and add ALL get exactly the daemon's bounding set (this host lacks CAP_SYS_RESOURCE)", async (t) => {
  const env = await ctrEnv(t, r);
  const host = await daemonBounding(env);
  const podId = await runPodWithLogs(env, privilegedPod);
  const status = ["cat", "/proc/self/status"];
  let [code, out] = await runOnce(env, podId, { command: status, linux: { securityContext: { privileged: true } } as never });
  assert.equal(code, 0, out);
  assert.equal(BigInt(`0x${statusField(out, "CapEff")}`), host, "privileged: CapEff is the daemon's CapBnd");
  assert.equal(BigInt(`0x${statusField(out, "CapBnd")}`), host);
  [code, out] = await runOnce(env, podId, { command: status, linux: { securityContext: { capabilities: { addCapabilities: ["ALL"], dropCapabilities: [], addAmbientCapabilities: [] } } } as never });
  assert.equal(code, 0, out);
  assert.equal(BigInt(`0x${statusField(out, "CapEff")}`), host, "ALL: CapEff is the daemon's CapBnd");
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("a capability the host's bounding set lacks is refused by name, leaving nothing behind", async (t) => {
  const env = await ctrEnv(t, r);
  const host = await daemonBounding(env);
  const lacked = ALL_CAPABILITIES.find((_, bit) => ((host >> BigInt(bit)) & 1n) === 0n);
  if (!lacked) return t.skip("this host's bounding set holds every capability runc knows");
  const name = lacked.replace(/^CAP_/, "");
  const podId = await runPodWithLogs(env);
  const config = ctrConfig(env, { command: ["true"], linux: { securityContext: { capabilities: { addCapabilities: [name], dropCapabilities: [], addAmbientCapabilities: [] } } } as never });
  await assert.rejects(createCtr(env, podId, config), (e: ServiceError) => {
    assert.equal(e.code, grpc.FAILED_PRECONDITION, e.message);
    assert.match(e.details, new RegExp(`add_capabilities: ${lacked} is not in this node's capability bounding set`));
    return true;
  });
  assert.deepEqual(await listCtrs(env.d), [], "no container record");
  for (const dir of [join(env.d.state, "containers"), join(env.d.root, "containers")]) {
    assert.deepEqual(await readdir(dir).catch(() => []), [], `nothing left in ${dir}`);
  }
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("run_as_group without run_as_user or run_as_username is INVALID_ARGUMENT before anything is made", async (t) => {
  const env = await ctrEnv(t, r);
  const podId = await runPodWithLogs(env);
  const config = ctrConfig(env, { name: "grp", command: ["true"], linux: { securityContext: { runAsGroup: { value: 1000n } } } as never });
  await assert.rejects(createCtr(env, podId, config), (e: ServiceError) => {
    assert.equal(e.code, grpc.INVALID_ARGUMENT, e.message);
    assert.match(e.details, /container "grp": linux\.security_context\.run_as_group is set without run_as_user or run_as_username/);
    return true;
  });
  assert.deepEqual(await listCtrs(env.d), []);
  const ok = ctrConfig(env, { command: ["id", "-g"], linux: { securityContext: { runAsUser: { value: 1000n }, runAsGroup: { value: 1234n } } } as never });
  const id = await createCtr(env, podId, ok);
  await startCtr(env.d, id);
  const s = await waitState(env.d, id, ContainerState.CONTAINER_EXITED);
  assert.equal((await logText(s.status!.logPath)).trim(), "1234");
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});
