// The mount driver: runs util-linux `mount`/`umount` (Node has no mount syscall) and tells
// whether a path is a mount point. Pod shm and container rootfs mounts both go through here.
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { internal } from "../errors.js";
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
