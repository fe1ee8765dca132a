// Garbage collection of what removed containers left on disk: <state>/containers/<id> (bundle),
// <root>/containers/<id> (upper), exit files and attach-socket links with no record; at start and on the GC schedule.
import { readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe } from "../errors.js";
import { logger } from "../util/log.js";

const log = logger("containers-gc");
const ID = /^[0-9a-f]{64}$/;

/** Mount points from mountinfo (octal escapes undone). */
async function mountPoints(): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map((l) => (l.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/**
 * Removes container directories whose id has no record. The directories are listed before the
 * records are read: CreateContainer saves its record before making them, so a directory listed
 * belongs to a record read afterwards unless that container is gone. Anything mounted below a
 * directory keeps it (a rootfs still mounted is never deleted through).
 */
export async function sweepContainerDirs(dirs: { bundles: string; data: string; exits: string; socks: string }, knownIds: () => Set<string>): Promise<number> {
  const listed: string[] = [];
  for (const base of [dirs.bundles, dirs.data, dirs.exits, dirs.socks]) {
    for (const name of await readdir(base).catch(() => [] as string[])) if (ID.test(name)) listed.push(join(base, name));
  }
  if (listed.length === 0) return 0;
  const known = knownIds();
  const orphans = listed.filter((p) => !known.has(p.slice(p.lastIndexOf("/") + 1)));
  if (orphans.length === 0) return 0;
  const mounts = await mountPoints();
  let removed = 0;
  for (const dir of orphans) {
    if (mounts.some((m) => m === dir || m.startsWith(`${dir}/`))) {
      log.warn({ dir }, "directory of a removed container still has a mount below it; keeping it");
      continue;
    }
    try {
      await rm(dir, { recursive: true, force: true });
      removed++;
      log.info({ dir }, "removed what a removed container left (directory, exit file or socket link)");
    } catch (err) {
      log.warn({ dir, err: describe(err) }, "cannot remove the directory of a removed container");
    }
  }
  return removed;
}
