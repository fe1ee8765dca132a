// Reboot detection: the kernel's boot id, kept in the state dir, tells a restart after a reboot
// (or an emptied state dir) from a plain daemon restart, so no pid of an earlier boot is trusted.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../network/atomic-file.js";

const BOOT_ID = "/proc/sys/kernel/random/boot_id";

export interface BootCheck {
  /** Why records of running things cannot be trusted (a reboot, an emptied state dir); undefined when they can. */
  rebooted: string | undefined;
  /** Records this boot in the state dir; call once recovery is done, before serving. */
  commit(): Promise<void>;
}

/** Call before anything makes a directory under state. */
export async function checkBoot(stateDir: string): Promise<BootCheck> {
  const marker = join(stateDir, "boot_id");
  const current = (await readFile(BOOT_ID, "utf8")).trim();
  const recorded = (await readFile(marker, "utf8").catch(() => undefined))?.trim();
  let rebooted: string | undefined;
  if (recorded !== undefined && recorded !== current) rebooted = `the host rebooted (boot id ${recorded} -> ${current})`;
  // No marker: an emptied state dir (tmpfs /run after a reboot) has no runc root either; an
  // older Berth's state has one and is trusted as before.
  else if (recorded === undefined && !existsSync(join(stateDir, "runc"))) rebooted = "the state dir was emptied (host reboot)";
  return { rebooted, commit: () => writeFileAtomic(marker, `${current}\n`, { mode: 0o600, fsync: true }) };
}
