// The infra process of a pod that shares one PID namespace: `catatonit -P` as PID 1 of a new
// PID namespace (util-linux unshare, which also pins it), chrooted into a one-file rootfs as nobody.
//
// Why not runc: one unshare + catatonit pair costs ~5 ms and needs no bundle; it is detached
// (own session, no inherited fds) so it outlives daemon restarts, and it is found again by
// pid + start time. catatonit is static, so the rootfs holds nothing but its binary.
import { copyFile, chmod, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { internal } from "../errors.js";
import { logger } from "../util/log.js";
import { spawnProcess } from "../util/spawn.js";
import { which } from "../util/which.js";

const log = logger("infra");
const NOBODY = 65534;
const START_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 2000;
const TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface InfraProcess {
  /** catatonit, PID 1 of the pod's PID namespace (host pid). */
  pid: number;
  /** /proc/<pid>/stat start time, so a recycled pid is never mistaken for it. */
  startTime: string;
  /** The unshare process that waits for it. */
  monitorPid: number;
  monitorStartTime: string;
}

/** Preparations under way, by directory: pods started at once share one copy (a second one chmod-ed the first one's renamed temp file: ENOENT). */
const preparing = new Map<string, Promise<void>>();

/**
 * Copies catatonit into `dir` (once) as the infra's whole read-only rootfs. `dir` is 0555 (see
 * below), so its parent is made 0700: no host user may reach it whatever mode state has.
 */
export function prepareInfraRoot(dir: string): Promise<void> {
  let p = preparing.get(dir);
  if (!p) {
    p = prepareOnce(dir).finally(() => preparing.delete(dir));
    preparing.set(dir, p);
  }
  return p;
}

async function prepareOnce(dir: string): Promise<void> {
  const target = join(dir, "catatonit");
  const src = which("catatonit");
  if (!src) throw internal("catatonit is not installed (Debian package catatonit); it is needed for pods that share a PID namespace");
  const [a, b] = await Promise.all([stat(src), stat(target).catch(() => undefined)]);
  if (b && b.size === a.size) return;
  await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = `${target}.tmp`;
  await copyFile(src, tmp);
  await chmod(tmp, 0o555);
  await rename(tmp, target);
  // The one directory open to others, 0555: it is the infra's "/" after chroot, and catatonit,
  // running as uid 65534, must search it to exec /catatonit. Its parent stays 0700: unshare
  // chroots as root, before dropping to 65534, so uid 65534 never walks the host path.
  await chmod(dir, 0o555);
}

export interface StartInfraOptions {
  /** Directory holding only catatonit (prepareInfraRoot). */
  rootDir: string;
  /** Where the PID namespace is pinned (a file that must not exist yet). */
  pidnsPin: string;
  /** The pod's pinned namespaces it joins first (nsenter), so its pid works like a pause
   * container's with `nsenter -t <pid> -n`; absent ones (host network, host IPC) are the host's. */
  join?: { net?: string | undefined; ipc?: string | undefined; uts?: string | undefined };
  /** Argv prefix from the cgroup driver (a systemd scope), or empty. */
  prefix?: readonly string[];
  /** Gets unshare's stderr; the file is kept for debugging a failed start. */
  logFile: string;
}

/** `nsenter --net=<pin> ...` (which then execs unshare, so the monitor pid is unchanged), or nothing. */
function nsenterArgs(join: NonNullable<StartInfraOptions["join"]>): string[] {
  const args = (["net", "ipc", "uts"] as const).flatMap((k) => (join[k] ? [`--${k}=${join[k]}`] : []));
  return args.length > 0 ? ["nsenter", ...args] : [];
}

export async function startInfra(o: StartInfraOptions): Promise<InfraProcess> {
  await mkdir(dirname(o.pidnsPin), { recursive: true, mode: 0o700 });
  const pin = await open(o.pidnsPin, "wx", 0o444);
  await pin.close();
  const errFile = await open(o.logFile, "w", 0o600);
  const argv = [
    ...(o.prefix ?? []),
    ...nsenterArgs(o.join ?? {}),
    "unshare",
    `--pid=${o.pidnsPin}`,
    "--fork",
    `--root=${o.rootDir}`,
    "--wd=/",
    "--setuid",
    String(NOBODY),
    "--setgid",
    String(NOBODY),
    "/catatonit",
    "-P",
  ];
  let monitorPid: number;
  try {
    const child = spawnProcess(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ["ignore", "ignore", errFile.fd],
      env: { PATH: TOOL_PATH },
    });
    child.unref();
    monitorPid = await new Promise<number>((resolve, reject) => {
      child.once("error", (err: Error) => reject(internal(`cannot start the infra process: ${err.message}`, err)));
      child.once("spawn", () => resolve(child.pid!));
    });
    child.once("exit", (code: number | null, signal: NodeJS.Signals | null) => log.debug({ monitorPid, code, signal }, "infra monitor exited"));
  } finally {
    await errFile.close();
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (let round = 0; ; round++) {
    const pid = await childOf(monitorPid, round % 16 === 15);
    if (pid !== undefined) {
      const [startTime, monitorStartTime] = await Promise.all([processStartTime(pid), processStartTime(monitorPid)]);
      if (startTime && monitorStartTime) return { pid, startTime, monitorPid, monitorStartTime };
    }
    if (!(await processStartTime(monitorPid)) || (await isZombie(monitorPid)) || Date.now() > deadline) {
      const stderr = (await readFile(o.logFile, "utf8").catch(() => "")).trim();
      await killIfSame(monitorPid, undefined);
      throw internal(`the infra process (catatonit under unshare) did not start: ${stderr || "no output"}`);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** True when the process with this pid is still the one that was started (same start time). */
export async function infraAlive(p: Pick<InfraProcess, "pid" | "startTime">): Promise<boolean> {
  return (await processStartTime(p.pid)) === p.startTime && !(await isZombie(p.pid));
}

/** SIGKILLs catatonit (which ends the whole PID namespace) and its monitor; waits until they are gone. */
export async function stopInfra(p: InfraProcess): Promise<void> {
  await killIfSame(p.pid, p.startTime);
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while ((await infraAlive(p)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // unshare exits by itself once its child is gone; make sure.
  while ((await processStartTime(p.monitorPid)) === p.monitorStartTime && !(await isZombie(p.monitorPid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await killIfSame(p.monitorPid, p.monitorStartTime);
  if (await infraAlive(p)) throw internal(`infra process ${p.pid} did not exit after SIGKILL`);
}

async function killIfSame(pid: number, startTime: string | undefined): Promise<void> {
  if (startTime !== undefined && (await processStartTime(pid)) !== startTime) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

async function statFields(pid: number): Promise<string[] | undefined> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses; the fields after the last ")" do not.
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (clock ticks since boot), or undefined when the pid is gone. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  return (await statFields(pid))?.[19];
}

async function isZombie(pid: number): Promise<boolean> {
  return (await statFields(pid))?.[0] === "Z";
}

const NEAR = 32;

/**
 * The child of `parent`. This kernel has no /proc/<pid>/task/<tid>/children, so look at the
 * next few pids first (where a fresh fork almost always lands), then scan /proc.
 */
async function childOf(parent: number, full: boolean): Promise<number | undefined> {
  const isChild = async (pid: number) => (await statFields(pid))?.[1] === String(parent);
  const near = Array.from({ length: NEAR }, (_, i) => parent + 1 + i);
  const hits = await Promise.all(near.map(isChild));
  const i = hits.indexOf(true);
  if (i >= 0) return near[i];
  if (!full) return undefined;
  for (const n of await readdir("/proc")) {
    if (/^\d+$/.test(n) && (await isChild(Number(n)))) return Number(n);
  }
  return undefined;
}

export async function removeInfraLog(file: string): Promise<void> {
  await rm(file, { force: true });
}
