// Real bundles for the OCI driver tests: a busybox rootfs shared read-only by every bundle, a
// minimal config.json per container, a test-unique cgroup parent, and cleanup of all of it.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, link, mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { OciRuntime, type ContainerProcess, type CreateContainerRequest } from "../../../src/oci/runtime.js";
import { processAlive, signalPid } from "../../../src/oci/proc.js";

const run = promisify(execFile);
export const BUSYBOX = "/bin/busybox";
const APPLETS = ["sh", "sleep", "echo", "cat", "true", "false", "id", "printf", "head", "tail", "seq", "ps", "kill", "ls", "yes"];
const CGROUP_ROOT = "/sys/fs/cgroup";

/**
 * A rootfs with busybox and its applets as hard links. Debian's busybox-static and busybox
 * conflict; when the dynamic one is installed its libraries (from ldd) are copied in too.
 */
export async function makeRootfs(dir: string): Promise<string> {
  const rootfs = join(dir, "rootfs");
  for (const d of ["bin", "proc", "dev", "sys", "tmp", "etc"]) await mkdir(join(rootfs, d), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, "bin/busybox"));
  for (const a of APPLETS) await link(join(rootfs, "bin/busybox"), join(rootfs, "bin", a));
  const ldd = await run("ldd", [BUSYBOX]).then((r) => r.stdout, () => "");
  for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) {
    const lib = m[1];
    if (!lib) continue;
    await mkdir(join(rootfs, dirname(lib)), { recursive: true });
    await copyFile(lib, join(rootfs, lib));
  }
  await writeFile(join(rootfs, "etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
  return rootfs;
}

export interface SpecOptions {
  args: string[];
  env?: string[];
  cwd?: string;
  tty?: boolean;
  memoryLimit?: number;
  /** OCI hooks, e.g. a slow createRuntime hook to stall runc create. */
  hooks?: object;
}

/** The smallest OCI config that runc 1.1 runs like a pod container: own pid/mount/ipc/uts/net namespaces. */
export function ociConfig(rootfs: string, cgroupsPath: string, o: SpecOptions): object {
  const caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: o.tty ?? false,
      user: { uid: 0, gid: 0 },
      args: o.args,
      env: ["PATH=/bin", ...(o.env ?? [])],
      cwd: o.cwd ?? "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: "berth-test",
    ...(o.hooks ? { hooks: o.hooks } : {}),
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"] },
    ],
    linux: {
      cgroupsPath,
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      resources: {
        devices: [{ allow: false, access: "rwm" }],
        ...(o.memoryLimit ? { memory: { limit: o.memoryLimit, swap: o.memoryLimit } } : {}),
      },
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/** Each test file's world: temp dir, state dir, runtime, rootfs, cgroup parent, and its undo. */
export class OciKit {
  readonly made: ContainerProcess[] = [];
  readonly extraCgroups: string[] = [];
  readonly runtimes: OciRuntime[] = [];
  private constructor(
    readonly dir: string,
    readonly rootfs: string,
    readonly runtime: OciRuntime,
    readonly cgroupParent: string,
  ) {
    this.runtimes.push(runtime);
  }

  static async open(): Promise<OciKit> {
    const dir = await mkdtemp(join(tmpdir(), "berth-oci-"));
    try {
      const rootfs = await makeRootfs(dir);
      const runtime = await OciRuntime.open({ stateDir: join(dir, "state"), runcPath: "runc", conmonPath: "conmon" });
      return new OciKit(dir, rootfs, runtime, `/berth-test-${randomBytes(4).toString("hex")}`);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** A fresh id and bundle dir with config.json (rootfs shared read-only). */
  async bundle(spec: SpecOptions, prefix = "c"): Promise<{ id: string; bundleDir: string; persistDir: string; logPath: string }> {
    const id = `${prefix}-${randomBytes(6).toString("hex")}`;
    const bundleDir = join(this.dir, "bundles", id);
    await mkdir(bundleDir, { recursive: true });
    await writeFile(join(bundleDir, "config.json"), JSON.stringify(ociConfig(this.rootfs, `${this.cgroupParent}/${id}`, spec)));
    return { id, bundleDir, persistDir: join(this.dir, "persist", id), logPath: join(this.dir, "logs", id, "0.log") };
  }

  /** Bundle + create through the runtime, tracked for cleanup. */
  async create(spec: SpecOptions, extra: Partial<CreateContainerRequest> = {}): Promise<ContainerProcess> {
    const b = await this.bundle(spec);
    const rec = await this.runtime.create({ ...b, tty: spec.tty ?? false, stdin: false, stdinOnce: false, timeoutMs: 20_000, ...extra });
    this.made.push(rec);
    return rec;
  }

  async run(spec: SpecOptions, extra: Partial<CreateContainerRequest> = {}): Promise<ContainerProcess> {
    const rec = await this.create(spec, extra);
    await this.runtime.start(rec.id);
    return rec;
  }

  /** Deletes every container, kills any conmon still alive (by pid), removes cgroups and the temp dir. */
  async cleanup(): Promise<void> {
    for (const rec of this.made) {
      await this.runtime.delete(rec.id, { force: true }).catch(() => undefined);
      if (await processAlive(rec.conmonPid, rec.conmonStartTime)) signalPid(rec.conmonPid, "SIGKILL");
    }
    for (const rt of this.runtimes) rt.close();
    for (const cg of [...this.extraCgroups, this.cgroupParent]) await removeCgroup(cg);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Hierarchies a cgroupfs path lives in: every v1 controller mount plus the unified one. */
export async function cgroupDirs(path: string): Promise<string[]> {
  const names = await readdir(CGROUP_ROOT).catch(() => [] as string[]);
  return names.map((n) => join(CGROUP_ROOT, n, path));
}

/** rmdir a cgroup and its children (deepest first) in every hierarchy; retries while tasks drain. */
export async function removeCgroup(path: string): Promise<void> {
  for (const dir of await cgroupDirs(path)) {
    const walk = async (d: string): Promise<void> => {
      const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory()) await walk(join(d, e.name));
      for (let i = 0; i < 50; i++) {
        try {
          await rmdir(d);
          return;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === "ENOENT") return;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    await walk(dir);
  }
}

/** Pids in a cgroup (the v1 memory hierarchy, which runc always joins), empty when it is gone. */
export async function cgroupPids(path: string): Promise<number[]> {
  const text = await readFile(join(CGROUP_ROOT, "memory", path, "cgroup.procs"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map(Number);
}

/** conmon processes whose command line names this container id. */
export async function conmonsFor(id: string): Promise<number[]> {
  const out: number[] = [];
  for (const n of await readdir("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    const cmd = await readFile(`/proc/${n}/cmdline`, "utf8").catch(() => "");
    const argv = cmd.split("\0");
    if (argv[0]?.endsWith("conmon") && argv.includes(id)) out.push(Number(n));
  }
  return out;
}

export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
