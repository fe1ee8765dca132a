// Berth's own top directories (root, state) are owner-only: every container rootfs, layer, pin
// and pod shm lies below them, so no host user may list or traverse them (CVE-2021-41103 class).
import { chmodSync, mkdirSync, statSync } from "node:fs";

/**
 * Makes `dir` (and missing parents) mode 0700 and tightens an existing `dir` made by an older
 * Berth (0711) to 0700. Nothing inside a container needs to traverse these directories: runc,
 * conmon and overlayfs reach them as root, and bind mounts need no path access afterwards.
 */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}
