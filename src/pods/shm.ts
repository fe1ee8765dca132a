// The pod's own /dev/shm: a size-capped tmpfs mounted on the host under the pod's directory,
// bind-mounted into its containers later; unmounting is idempotent.
import { mkdir, rmdir } from "node:fs/promises";
import { isMountPoint, mountTool } from "../oci/mount.js";

const TIMEOUT_MS = 10_000;

function tool(cmd: "mount" | "umount", args: string[]): Promise<void> {
  return mountTool(cmd, args, { timeoutMs: TIMEOUT_MS });
}


export async function mountShm(path: string, sizeBytes: number): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await tool("mount", ["-t", "tmpfs", "-o", `rw,nosuid,nodev,noexec,mode=1777,size=${sizeBytes}`, "shm", path]);
}

/** Unmounts every path in `paths` that is a mount point, with one umount; missing ones are fine. */
export async function unmountAll(paths: readonly string[]): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const mounted: string[] = [];
    for (const p of paths) if (await isMountPoint(p)) mounted.push(p);
    if (mounted.length === 0) return;
    await tool("umount", mounted);
  }
}

export async function removeShm(path: string): Promise<void> {
  await unmountAll([path]);
  await rmdir(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}
