// The mount driver: mount(2) and umount2(2) through libc (koffi), or util-linux `mount`/`umount`
// where libc cannot be called or options need a working directory; tells mount points apart.
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { internal } from "../errors.js";
import { errnoName, lastErrno, libcFunc } from "../util/libc.js";
import { spawnProcess } from "../util/spawn.js";

export interface MountToolOptions {
  /** Working directory (overlay mounts give lowerdirs relative to it). */
  cwd?: string;
  timeoutMs?: number;
}

/** Runs `mount` or `umount` with arguments; a failure carries the tool's own stderr. */
export function mountTool(cmd: "mount" | "umount", args: string[], o: MountToolOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(cmd, args, { stdio: ["ignore", "ignore", "out"], ...(o.cwd ? { cwd: o.cwd } : {}) });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString("utf8");
    });
    const ms = o.timeoutMs ?? 30_000;
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("error", (err: Error) => {
      clearTimeout(timer);
      reject(internal(`${cmd} ${args.join(" ")} failed: cannot run it: ${err.message}`, err));
    });
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const why = stderr.trim() || (signal === "SIGKILL" ? `killed after ${ms} ms` : `exit ${code ?? signal}`);
        reject(internal(`${cmd} ${args.join(" ")} failed: ${why}`));
      }
    });
  });
}

/** True when `path` is the root of a mount (its device differs from its parent's). */
export async function isMountPoint(path: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([stat(path), stat(dirname(path))]);
    return a.dev !== b.dev;
  } catch {
    return false;
  }
}

export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
const MNT_DETACH = 0x2;
const ENOENT = 2;
const EINVAL = 22;
/** mount(2) copies at most one page of option data. */
export const MAX_MOUNT_DATA = 4095;

type Async<A extends unknown[]> = { async(...args: [...A, (err: unknown, rc: number) => void]): void };
type MountArgs = [source: string, target: string, type: string, flags: number, data: string];
type MountFn = ((...a: MountArgs) => number) & Async<MountArgs>;
type Umount2Fn = ((target: string, flags: number) => number) & Async<[string, number]>;
let calls: { mount: MountFn; umount2: Umount2Fn } | null | undefined;

function syscalls(): { mount: MountFn; umount2: Umount2Fn } | null {
  if (calls !== undefined) return calls;
  const mount = libcFunc<MountFn>("int mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data)");
  const umount2 = libcFunc<Umount2Fn>("int umount2(const char *target, int flags)");
  calls = mount && umount2 ? { mount, umount2 } : null;
  return calls;
}

/**
 * Runs the call on a thread of libuv's pool: an overlay's mount or unmount can take milliseconds
 * (the unmount syncs the upper filesystem), which the loop must not wait for. errno stays on that
 * thread, so a failed call is made once more on the loop to read it (failures are quick).
 */
function offLoop<A extends unknown[]>(fn: ((...a: A) => number) & Async<A>, ...args: A): Promise<{ rc: number; errno: number }> {
  return new Promise((resolve) => {
    fn.async(...args, (err, rc) => {
      if (!err && rc === 0) return resolve({ rc: 0, errno: 0 });
      const again = fn(...args);
      resolve({ rc: again, errno: again === 0 ? 0 : lastErrno() });
    });
  });
}

function flagWords(flags: number): string[] {
  return [[MS_NOSUID, "nosuid"], [MS_NODEV, "nodev"], [MS_NOEXEC, "noexec"]].flatMap(([f, w]) => ((flags & (f as number)) !== 0 ? [w as string] : []));
}

/**
 * Mounts `type` from `source` on `target` with mount(2) (~0.02 ms for a tmpfs, ~0.2 ms for an
 * overlay, against ~3 ms of CPU for the `mount` tool's process); the tool without libc.
 */
export async function mountFs(source: string, target: string, type: string, flags: number, data: string): Promise<void> {
  const c = syscalls();
  if (!c) {
    await mountTool("mount", ["-t", type, "-o", [...flagWords(flags), data].filter(Boolean).join(","), source, target]);
    return;
  }
  const { rc, errno } = await offLoop(c.mount, source, target, type, flags, data);
  if (rc !== 0) {
    const e = errnoName(errno);
    const hint = type === "overlay" ? "; the kernel log (dmesg) has overlayfs' reason" : "";
    throw internal(`mount -t ${type} ${source} on ${target} (${[...flagWords(flags), data].filter(Boolean).join(",")}) failed: ${e}${hint}`);
  }
}

/**
 * Unmounts `target` with umount2(2), `lazy` detaching it (MNT_DETACH) even while busy. Returns
 * false when it was not a mount point (EINVAL) or is gone (ENOENT), so callers can loop over stacked mounts.
 */
export async function unmount(target: string, lazy = false): Promise<boolean> {
  const c = syscalls();
  if (!c) {
    if (!(await isMountPoint(target))) return false;
    await mountTool("umount", lazy ? ["-l", target] : [target]);
    return true;
  }
  const { rc, errno } = await offLoop(c.umount2, target, lazy ? MNT_DETACH : 0);
  if (rc === 0) return true;
  if (errno === EINVAL || errno === ENOENT) return false;
  throw internal(`umount ${lazy ? "-l " : ""}${target} failed: ${errnoName(errno)}`);
}

/** Unmounts each path down to its last stacked mount (a few at most); paths not mounted or gone are fine. */
export async function unmountAll(paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    for (let i = 0; i < 3; i++) if (!(await unmount(p))) break;
  }
}
