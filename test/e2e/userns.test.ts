// Pods with hostUsers: false: kubelet's mappings inside, an unprivileged process on the host, the
// rootfs and a hostPath volume idmapped (root's files show as the pod's root), and the refusals.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { ContainerState, LinuxPodSandboxConfig, NamespaceMode, PodSandboxState } from "../../src/generated/runtime/v1/api.js";
import { removePod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, ctrStatus, exec, runPodWithLogs, sharedRegistry, startCtr, waitLog, waitState, type CtrEnv, type Registry } from "./containers-kit.js";

const run = promisify(execFile);
const code = (c: number, re: RegExp) => (e: ServiceError) => e.code === c && re.test(e.details);

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

/** A range as kubelet hands out: a multiple of 65536, 65536 long. */
const HOST = 65536 * (20_000 + Math.floor(Math.random() * 10_000));
const MAP = { hostId: HOST, containerId: 0, length: 65536 };

function usernsPod(o: { network?: NamespaceMode } = {}) {
  return {
    config: {
      linux: LinuxPodSandboxConfig.fromPartial({
        sysctls: { "kernel.shmmax": "12345678", "net.ipv4.ip_unprivileged_port_start": "80" },
        securityContext: {
          namespaceOptions: { network: o.network ?? NamespaceMode.POD, ipc: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, targetId: "", usernsOptions: { mode: NamespaceMode.POD, uids: [MAP], gids: [MAP] } },
        },
      }),
    },
  };
}

/** The mapped root must search the dirs above the state dir (as /var/lib is); mkdtemp made this one 0700. */
async function searchable(env: CtrEnv): Promise<void> {
  await chmod(env.d.dir, 0o711);
}

const mountsUnder = async (dir: string) => (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.split(" ")[4]?.startsWith(dir));

test("a hostUsers: false pod runs in its user namespace: mappings inside, mapped uid on the host, rootfs and hostPath idmapped (read-only kept), pod sysctls and hostname set; survives a daemon restart", async (t) => {
  const env = await ctrEnv(t, r);
  await searchable(env);
  const host = join(env.d.dir, "hostpath");
  await mkdir(host, { mode: 0o755 });
  await writeFile(join(host, "root-file"), "r\n");
  await writeFile(join(host, "uid1000-file"), "m\n");
  await chown(join(host, "uid1000-file"), 1000, 1000);
  t.after(() => rm(host, { recursive: true, force: true }));

  const podId = await runPodWithLogs(env, usernsPod());
  const script = [
    "cat /proc/self/uid_map /proc/self/gid_map",
    'echo "owners $(stat -c %u / /bin/busybox /etc/passwd /vol/root-file /vol/uid1000-file | tr "\\n" " ")"',
    "echo shm $(cat /proc/sys/kernel/shmmax)",
    "echo new > /newfile && echo vol > /vol/written && echo wrote",
    "{ echo no > /ro/x; } 2>/dev/null || echo ro-refused", // the shell reports a failed redirection on its own stderr
    "echo host $(hostname)",
    "echo ready; exec sleep 3600",
  ].join("; ");
  const id = await createCtr(env, podId, ctrConfig(env, { command: ["sh", "-c", script], mounts: [{ containerPath: "/vol", hostPath: host }, { containerPath: "/ro", hostPath: host, readonly: true }] as never }));
  await startCtr(env.d, id);
  const st = await waitState(env.d, id, ContainerState.CONTAINER_RUNNING);
  const text = await waitLog(st.status!.logPath, /^ready$/m);
  assert.match(text, new RegExp(`^\\s+0\\s+${HOST}\\s+65536$`, "m"), "uid_map and gid_map are kubelet's");
  assert.equal(text.match(new RegExp(`^\\s+0\\s+${HOST}\\s+65536$`, "gm"))?.length, 2);
  assert.match(text, /^owners 0 0 0 0 1000 $/m, "image files and the host's root files show as the pod's root; a volume's uid 1000 as 1000 (kubelet's idmapped volumes)");
  assert.match(text, /^shm 12345678$/m);
  assert.match(text, /^wrote$/m);
  assert.match(text, /^ro-refused$/m, "a read-only volume stays read-only through its idmapped copy");
  assert.match(text, /^host pod-/m);

  // ExecSync joins the same user namespace.
  const ex = await exec(env.d, id, ["sh", "-c", "id -u; cat /proc/self/uid_map"]);
  assert.match(Buffer.from(ex.stdout).toString(), new RegExp(`^0\\n\\s+0\\s+${HOST}\\s+65536\\n$`));

  // From the host: the process runs as the mapped uid, not root.
  const pid = (JSON.parse((await ctrStatus(env.d, id, true)).info["info"]!) as { pid: number }).pid;
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  assert.match(status, new RegExp(`^Uid:\\s+${HOST}\\s+${HOST}\\s+${HOST}\\s+${HOST}$`, "m"));
  assert.match(status, new RegExp(`^Gid:\\s+${HOST}\\s+`, "m"));
  // A write through the idmapped volume lands on disk as host root; one in the rootfs lands in the
  // container's upper dir as the mapped root (the image's layers were not chowned).
  assert.equal((await stat(join(host, "written"))).uid, 0);
  const { stdout } = await run("find", [env.d.root, "-name", "newfile", "-path", "*upper*"]);
  const upperFile = stdout.trim().split("\n")[0]!;
  assert.ok(upperFile, "the container's write is in its upper dir");
  assert.equal((await stat(upperFile)).uid, HOST);
  // Nothing idmapped is left attached on the host but the rootfs.
  // (by mount point: the rootfs overlay's own options name its idmapped lowerdirs, absolute since mount(2))
  assert.deepEqual((await mountsUnder(env.d.state)).filter((l) => l.split(" ")[4]?.includes("/idmap/")), []);

  // After a daemon restart the pod is still ready (its user namespace pin included) and the
  // container still runs; removing it then releases everything.
  const d = await env.restart();
  const after = await call(d.client, d.client.runtime, d.client.runtime.podSandboxStatus, { podSandboxId: podId, verbose: false });
  assert.equal(after.status!.state, PodSandboxState.SANDBOX_READY);
  assert.equal((await ctrStatus(d, id)).status!.state, ContainerState.CONTAINER_RUNNING);
  await removePod(d, podId);
  await env.leaks.assertNoLeaks();
});

test("hostUsers: false refusals: host network, a volume that cannot be idmapped, a host that cannot; nothing left behind", async (t) => {
  const env = await ctrEnv(t, r);
  await searchable(env);
  await assert.rejects(runPodWithLogs(env, usernsPod({ network: NamespaceMode.NODE })), code(grpc.INVALID_ARGUMENT, /hostUsers: false.*also asks for hostNetwork/));

  // procfs cannot be idmapped: CreateContainer says which source, and undoes everything.
  const podId = await runPodWithLogs(env, usernsPod());
  await assert.rejects(
    createCtr(env, podId, ctrConfig(env, { command: ["true"], mounts: [{ containerPath: "/v", hostPath: "/proc/version" }] as never })),
    code(grpc.INVALID_ARGUMENT, /mount \/v: \/proc\/version cannot be given to a user-namespaced pod .*mount_setattr\(MOUNT_ATTR_IDMAP\).*use a volume on a local filesystem/),
  );
  assert.deepEqual(await mountsUnder(join(env.d.state, "containers")), []);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("where runc has no user namespaces, Berth refuses hostUsers: false pods with FailedPrecondition naming why", async (t) => {
  const fake = join("/tmp", `berth-userns-runc-${process.pid}`);
  const real = (await run("sh", ["-c", "command -v runc"])).stdout.trim();
  await writeFile(fake, `#!/bin/sh\nif [ "$1" = features ]; then echo '{"linux":{"namespaces":["net"]}}'; exit 0; fi\nexec ${real} "$@"\n`, { mode: 0o755 });
  t.after(() => rm(fake, { force: true }));
  const env = await ctrEnv(t, r, { runtimeToml: `runc_path = "${fake}"` });
  await assert.rejects(runPodWithLogs(env, usernsPod()), code(grpc.FAILED_PRECONDITION, /hostUsers: false.*cannot work on this node with this runtime handler: .*does not list the user namespace/));
  await env.leaks.assertNoLeaks();
});
