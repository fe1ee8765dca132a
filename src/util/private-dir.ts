// Berth's own top directories (root, state) are owner-only: every container rootfs, layer, pin
// and pod shm lies below them, so no host user may list or traverse them (CVE-2021-41103 class).
import { chmodSync, mkdirSync, statSync } from "node:fs";

/** What Berth made root and state before they were owner-only. */
const OLD_BERTH_MODE = 0o711;

/**
 * Makes `dir` (and missing parents) mode 0700, and tightens one an older Berth made 0711.
 * Nothing inside a container needs to traverse it: runc, conmon and overlayfs reach it as root,
 * and bind mounts need no path access afterwards. A directory the admin made with another mode
 * (root = "/var/lib/x" on a shared 0755 dir) is left as it is: Berth's own subdirectories are
 * 0700 too. Returns the mode the directory has.
 */
export function makePrivateDir(dir: string): number {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = statSync(dir).mode & 0o7777;
  if (mode !== OLD_BERTH_MODE) return mode;
  chmodSync(dir, 0o700);
  return 0o700;
}
