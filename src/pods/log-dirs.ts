// A pod's log_directory Berth made itself (crictl; kubelet makes its own and deletes it) is Berth's to
// delete: noted as <logDirs>/<pod id> (holding the path), removed with the pod, or by GC once it is gone.
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { describe } from "../errors.js";
import { logger } from "../util/log.js";
import type { PodContext } from "./context.js";
import type { Pod } from "./record.js";

const log = logger("pods");
const ID = /^[0-9a-f]{64}$/;

/**
 * Makes `logDir` when it does not exist yet and notes it as the pod's. An existing directory
 * (kubelet's /var/log/pods/<pod>) is never noted, so never deleted. Noted after it is made: a
 * crash in between leaves an empty directory rather than one that may not be ours.
 */
export async function makeLogDir(logDirs: string, podId: string, logDir: string): Promise<void> {
  if (!logDir || !isAbsolute(logDir)) return;
  await mkdir(dirname(logDir), { recursive: true, mode: 0o755 });
  try {
    await mkdir(logDir, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
    throw err;
  }
  try {
    await mkdir(logDirs, { recursive: true, mode: 0o700 });
    await writeFile(join(logDirs, podId), logDir, { mode: 0o600 });
  } catch (err) {
    await rm(logDir, { recursive: true, force: true });
    throw err;
  }
}

/** RunPodSandbox's step: the pod's log_directory, made (and noted) when missing. A failure does not fail the pod: CreateContainer, which needs the directory, says why. */
export async function makePodLogDir(ctx: PodContext, pod: Pod): Promise<void> {
  const logDirs = ctx.deps.dirs.logDirs;
  if (!logDirs) return;
  await makeLogDir(logDirs, pod.rec.id, pod.config.logDirectory).catch((err: unknown) =>
    log.warn({ pod: pod.rec.id, dir: pod.config.logDirectory, err: describe(err) }, "cannot make the pod's log directory"));
}

/** Remove's step: the directory goes with the pod, unless another recorded pod logs there too (it inherits the note). */
export async function releasePodLogDir(ctx: PodContext, pod: Pod): Promise<void> {
  const logDirs = ctx.deps.dirs.logDirs;
  if (!logDirs) return;
  const dir = pod.config.logDirectory;
  const heir = dir ? [...ctx.pods.values()].find((p) => p !== pod && p.config.logDirectory === dir) : undefined;
  await releaseLogDir(logDirs, pod.rec.id, heir?.rec.id);
}

/** Deletes the pod's log directory (every container log in it) if Berth made it; with `heir`, hands the note over instead. */
export async function releaseLogDir(logDirs: string, podId: string, heir?: string): Promise<void> {
  const note = join(logDirs, podId);
  let logDir: string;
  try {
    logDir = await readFile(note, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (heir) {
    await rename(note, join(logDirs, heir));
    return;
  }
  if (isAbsolute(logDir) && logDir !== "/") await rm(logDir, { recursive: true, force: true });
  await rm(note, { force: true });
}

/**
 * GC: log directories Berth made for pods that have no record any more (removed while Berth was
 * down). Notes are listed before the records are read: a pod's record is saved before its note
 * is written and dropped only after the note is gone, so a pod being made is always known.
 */
export async function sweepLogDirs(logDirs: string, knownIds: () => Set<string>, heirOf: (dir: string) => string | undefined): Promise<number> {
  const ids = (await readdir(logDirs).catch(() => [] as string[])).filter((n) => ID.test(n));
  if (ids.length === 0) return 0;
  const known = knownIds();
  let removed = 0;
  for (const id of ids) {
    if (known.has(id)) continue;
    try {
      const dir = await readFile(join(logDirs, id), "utf8").catch(() => "");
      const heir = dir ? heirOf(dir) : undefined;
      await releaseLogDir(logDirs, id, heir);
      removed++;
      if (heir) log.info({ pod: id, dir, heir }, "the log directory Berth made for a pod it no longer has stays: another pod logs there");
      else log.info({ pod: id, dir }, "removed the log directory Berth made for a pod it no longer has");
    } catch (err) {
      log.warn({ pod: id, err: describe(err) }, "cannot remove the log directory of a pod Berth no longer has");
    }
  }
  return removed;
}
