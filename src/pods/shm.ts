// The pod's own /dev/shm: a size-capped tmpfs mounted on the host under the pod's directory,
// bind-mounted into its containers later; unmounting is idempotent.
import { mkdir, rmdir } from "node:fs/promises";
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, mountFs, unmountAll } from "../oci/mount.js";

export async function mountShm(path: string, sizeBytes: number): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await mountFs("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${sizeBytes}`);
}

export async function removeShm(path: string): Promise<void> {
  await unmountAll([path]);
  await rmdir(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}
