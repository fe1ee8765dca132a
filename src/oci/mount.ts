// The mount driver: runs util-linux `mount`/`umount` (Node has no mount syscall) and tells
// whether a path is a mount point. Pod shm and container rootfs mounts both go through here.
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { internal } from "../errors.js";

export interface MountToolOptions {
  /** Working directory (overlay mounts give lowerdirs relative to it). */
  cwd?: string;
  timeoutMs?: number;
}

/** Runs `mount` or `umount` with arguments; a failure carries the tool's own stderr. */
export function mountTool(cmd: "mount" | "umount", args: string[], o: MountToolOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: o.timeoutMs ?? 30_000, ...(o.cwd ? { cwd: o.cwd } : {}) }, (err, _o, stderr) => {
      if (err) reject(internal(`${cmd} ${args.join(" ")} failed: ${String(stderr).trim() || err.message}`, err));
      else resolve();
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
