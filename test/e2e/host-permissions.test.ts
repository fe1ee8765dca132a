// A host user must not reach a container's or pod's internals: with a pod (shared PID namespace,
// log directory) and a running container up, `nobody` probes every path under root and state.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ContainerState, LinuxPodSandboxConfig, NamespaceMode } from "../../src/generated/runtime/v1/api.js";
import { removePod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, runPodWithLogs, sharedRegistry, startCtr, waitLog, waitState, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

type Kind = "dir" | "file" | "symlink" | "socket" | "other";
interface Probe {
  path: string;
  kind: Kind;
  /** Directories a host user may list (kubelet's log dirs are 0755 by its own convention). */
  listable?: boolean;
}

/** Every path under `top` (itself included), as root sees it; symlinks are not followed. */
async function walk(top: string, listable: "top" | "all"): Promise<Probe[]> {
  const out: Probe[] = [];
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path).catch(() => undefined);
    if (!st) return; // gone meanwhile (an ExecSync pid file, a temp name)
    const kind: Kind = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : st.isSocket() ? "socket" : "other";
    out.push({ path, kind, ...(kind === "dir" && (listable === "all" || path === top) ? { listable: true } : {}) });
    if (kind === "dir") for (const e of await readdir(path).catch(() => [])) await visit(join(path, e));
  };
  await visit(top);
  return out;
}

// Runs as uid/gid 65534 with no groups: tries for real to list, read, write, create, connect.
// Device nodes and fifos are only asked with access(2) (real uid), never opened.
const PROBE = `
const fs = require("node:fs");
const net = require("node:net");
const probes = JSON.parse(fs.readFileSync(0, "utf8"));
const ok = (f) => { try { f(); return true; } catch { return false; } };
// From the socket's own dir (sun_path holds 107 bytes): connected, refused or the wrong socket
// type all mean the kernel let nobody reach it.
const connects = (path) => new Promise((res) => {
  if (!ok(() => process.chdir(require("node:path").dirname(path)))) return res(false);
  const s = net.connect(require("node:path").basename(path));
  const done = (v) => { s.destroy(); process.chdir("/"); res(v); };
  s.once("connect", () => done(true));
  s.once("error", (e) => done(["ECONNREFUSED", "EPROTOTYPE", "EAGAIN"].includes(e.code)));
});
(async () => {
  const found = [];
  for (const p of probes) {
    const got = [];
    if (p.kind === "dir") {
      if (!p.listable && ok(() => fs.readdirSync(p.path))) got.push("list");
      const f = p.path + "/.nobody-probe";
      if (ok(() => fs.closeSync(fs.openSync(f, "wx")))) { got.push("create"); fs.rmSync(f, { force: true }); }
    } else if (p.kind === "file") {
      if (ok(() => fs.closeSync(fs.openSync(p.path, "r")))) got.push("read");
      if (ok(() => fs.closeSync(fs.openSync(p.path, fs.constants.O_WRONLY)))) got.push("write");
    } else if (p.kind === "symlink") {
      if (ok(() => fs.readlinkSync(p.path))) got.push("readlink");
    } else if (p.kind === "socket") {
      if (await connects(p.path)) got.push("connect");
    } else {
      if (ok(() => fs.accessSync(p.path, fs.constants.R_OK))) got.push("read");
      if (ok(() => fs.accessSync(p.path, fs.constants.W_OK))) got.push("write");
    }
    if (got.length) found.push(p.path + ": " + got.join(","));
  }
  process.stdout.write(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), found }));
})();
`;

/** One `nobody` process for the whole list; returns "path: what it could do" for each breach. */
function probeAsNobody(probes: Probe[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath, "-e", PROBE], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    p.once("error", reject);
    p.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`probe as nobody exited ${code}: ${err}`));
      const res = JSON.parse(out) as { uid: number; gid: number; groups: number[]; found: string[] };
      // getgroups(2) may list the egid itself; no other group.
      assert.deepEqual([res.uid, res.gid, res.groups.filter((g) => g !== 65534)], [65534, 65534, []], "the probe really runs as nobody");
      resolve(res.found);
    });
    p.stdin.end(JSON.stringify(probes));
  });
}

test("nobody can neither read into nor write anything under root, state or the pod's log directory", async (t) => {
  const env = await ctrEnv(t, r);
  for (const dir of [env.d.root, env.d.state]) assert.equal((await lstat(dir)).mode & 0o7777, 0o700, `${dir} is made 0700`);
  // Then open them, and the fixture's dir (0700 from mkdtemp), as an admin's shared dirs might
  // be (Berth leaves an existing root or state as it finds it, unless an older Berth made it
  // 0711): every directory Berth makes inside must keep host users out on its own.
  for (const dir of [env.d.dir, env.d.root, env.d.state]) await chmod(dir, 0o755);
  const podId = await runPodWithLogs(env, { pid: NamespaceMode.POD });
  // A non-root container: it still reads the pod's files, uses /dev/shm and lists "/" through
  // the owner-only host dirs.
  const script = "cat /etc/resolv.conf /etc/hosts >/dev/null && echo x >/dev/shm/f && ls / >/dev/null && echo ready-$(id -u); exec sleep 3600";
  const id = await createCtr(env, podId, ctrConfig(env, { command: ["sh", "-c", script], linux: { securityContext: { runAsUser: { value: 1000n } } } as never }));
  await startCtr(env.d, id);
  const st = await waitState(env.d, id, ContainerState.CONTAINER_RUNNING);
  await waitLog(st.status!.logPath, /^ready-1000$/m);
  // And a hostUsers: false pod: its mapped root needs search on <state> and <state>/containers
  // and owns its bundle dir (0700); nothing more may open up for other host users.
  const map = { hostId: 65536 * 25_000, containerId: 0, length: 65536 };
  const usernsPod = await runPodWithLogs(env, {
    config: { linux: LinuxPodSandboxConfig.fromPartial({ securityContext: { namespaceOptions: { network: NamespaceMode.POD, ipc: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, usernsOptions: { mode: NamespaceMode.POD, uids: [map], gids: [map] } } } }) },
  });
  const usernsCtr = await createCtr(env, usernsPod, ctrConfig(env, { command: ["sh", "-c", "cat /etc/resolv.conf >/dev/null && echo x >/dev/shm/f && echo ready; exec sleep 3600"] }));
  await startCtr(env.d, usernsCtr);
  await waitLog((await waitState(env.d, usernsCtr, ContainerState.CONTAINER_RUNNING)).status!.logPath, /^ready$/m);

  // A control the probe must catch, so it cannot pass by failing at everything.
  const control = join(env.d.dir, "control-open");
  await mkdir(control, { mode: 0o777 });
  await chmod(control, 0o777);
  const probes = [
    ...(await walk(env.d.root, "top")),
    ...(await walk(env.d.state, "top")),
    ...(await walk(env.logRoot, "all")),
    { path: control, kind: "dir" as const },
  ];
  // The walk saw the container's rootfs and layers, the pod's shm and the pins.
  const paths = probes.map((p) => p.path);
  assert.ok(paths.includes(join(env.d.state, "containers", id, "rootfs", "bin", "busybox")), "walked into the rootfs");
  assert.ok(paths.includes(join(env.d.state, "containers", usernsCtr, "rootfs", "bin", "busybox")), "walked into the user-namespaced container's rootfs");
  assert.ok(paths.includes(join(env.d.state, "pods", podId, "shm", "f")), "walked into the pod's shm");
  assert.ok(paths.some((p) => p.startsWith(join(env.d.state, "ns", "pidns"))), "walked the PID namespace pin");
  assert.ok(paths.includes(st.status!.logPath), "walked the log file");

  assert.equal((await lstat(st.status!.logPath)).mode & 0o777, 0o640, "the CRI log is 0640, as containerd makes it");
  const found = await probeAsNobody(probes);
  assert.deepEqual(found, [`${control}: list,create`], `paths a host user can reach:\n${found.join("\n")}`);
  await removePod(env.d, podId);
  await removePod(env.d, usernsPod);
});
