// Makes and removes cgroup directories by hand (the cgroupfs driver): one directory per v1
// hierarchy plus the v2 one, cpuset seeded from the parent, v2 controllers delegated downwards.
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BerthError, Code, internal } from "../errors.js";
import { logger } from "../util/log.js";
import type { Hierarchy } from "./cgroups-hierarchies.js";

const log = logger("cgroups");
const REMOVE_RETRY_MS = 1000;

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Directories of `path` (absolute, normalised) from the top down, within one mount. */
function chain(mount: string, path: string): string[] {
  const segs = path.split("/").filter((s) => s !== "");
  return segs.map((_, i) => join(mount, ...segs.slice(0, i + 1)));
}

export class CgroupFs {
  /** In pure v2 mode controllers must be enabled in each parent's subtree_control; in hybrid they live on v1. */
  constructor(
    private readonly hierarchies: readonly Hierarchy[],
    private readonly pureV2: boolean,
  ) {}

  dirs(path: string): string[] {
    return this.hierarchies.map((h) => join(h.mount, path));
  }

  /** Whether the cgroup exists in the first hierarchy (all of them are made together). */
  async exists(path: string): Promise<boolean> {
    const first = this.hierarchies[0];
    return first ? exists(join(first.mount, path)) : false;
  }

  /** Creates the cgroup (and missing parents) everywhere; true when Berth made the leaf somewhere. Undoes itself on failure. */
  async create(path: string): Promise<boolean> {
    if (this.hierarchies.length === 0) throw internal("no cgroup hierarchy is mounted (/proc/self/mountinfo lists none)");
    const made: string[] = [];
    try {
      // Hierarchies are independent; in parallel this is ~1 ms instead of ~5 for ten of them.
      const results = await Promise.allSettled(
        this.hierarchies.map(async (h) => {
          const seed = h.kind === "v1" && h.controllers.includes("cpuset");
          for (const dir of chain(h.mount, path)) if (await makeDir(dir, seed)) made.push(dir);
          if (h.kind === "v2" && this.pureV2) await delegate(h.mount, path);
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      return made.length > 0 && made.some((d) => this.dirs(path).includes(d));
    } catch (err) {
      for (const d of made.reverse()) await rmdir(d).catch(() => undefined);
      throw internal(`cannot create cgroup ${path}: ${(err as Error).message}`, err);
    }
  }

  /** Moves processes into the cgroup in every hierarchy. */
  async addProcesses(path: string, pids: readonly number[]): Promise<void> {
    await Promise.all(this.dirs(path).map(async (dir) => {
      for (const pid of pids) {
        await writeFile(join(dir, "cgroup.procs"), `${pid}\n`).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
          throw new BerthError(Code.FAILED_PRECONDITION, `cgroup ${dir} refused process ${pid} (ENOSPC): on cgroup v1 its cpuset.cpus or cpuset.mems is empty, on v2 a cgroup with controllers enabled for its children cannot hold processes; check ${dir} and its parents`, { cause: err });
        });
      }
    }));
  }

  /**
   * Removes the cgroup and any child cgroups below it, bottom-up, in every hierarchy. Missing
   * ones are fine; tasks that are still exiting get a short grace period, then it fails naming them.
   */
  async remove(path: string): Promise<void> {
    const deadline = Date.now() + REMOVE_RETRY_MS;
    const results = await Promise.allSettled(this.dirs(path).map(async (dir) => {
      for (;;) {
        try {
          await removeTree(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== "EBUSY" || Date.now() > deadline) {
            const pids = (await treeProcs(dir)).join(", ");
            throw internal(`cannot remove cgroup ${dir}: ${(err as Error).message}${pids ? `; processes still in it: ${pids}` : ""}`, err);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/** Pids in a cgroup and every cgroup below it. */
async function treeProcs(dir: string): Promise<string[]> {
  const own = (await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "")).split("\n").filter(Boolean);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) own.push(...(await treeProcs(join(dir, e.name))));
  return own;
}

async function removeTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name));
  try {
    await rmdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/**
 * Directories this daemon is making right now (mkdir, then the cpuset seed), by absolute path.
 * Pods made at once share new parents: a call that finds one existing must wait until its maker
 * has seeded it, or it seeds its own child from an empty parent and a process cannot join (ENOSPC).
 */
const making = new Map<string, Promise<boolean>>();

/** Makes one directory (its parent exists and is seeded); true when this call made it. */
async function makeDir(dir: string, seed: boolean): Promise<boolean> {
  const pending = making.get(dir);
  if (pending) return pending.then(() => false);
  if (await exists(dir)) {
    await making.get(dir);
    return false;
  }
  const again = making.get(dir);
  if (again) return again.then(() => false);
  const p = (async () => {
    // Made by someone outside this daemon first: not ours; seeding again is idempotent (it only fills empty files).
    const mine = await mkdir(dir, { mode: 0o755 }).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code === "EEXIST") return false;
      throw err;
    });
    if (seed) await seedCpuset(dir);
    return mine;
  })();
  making.set(dir, p);
  try {
    return await p;
  } finally {
    making.delete(dir);
  }
}

/** A new v1 cpuset cgroup starts empty and refuses tasks; copy the parent's cpus and mems, as runc does. */
async function seedCpuset(dir: string): Promise<void> {
  const parent = join(dir, "..");
  for (const f of ["cpuset.cpus", "cpuset.mems"]) {
    const own = (await readFile(join(dir, f), "utf8").catch(() => "")).trim();
    if (own) continue;
    const v = (await readFile(join(parent, f), "utf8")).trim();
    if (v) await writeFile(join(dir, f), v);
  }
}

/** Enables every available controller from the root down to `path` itself, so children get them. */
async function delegate(mount: string, path: string): Promise<void> {
  for (const dir of [mount, ...chain(mount, path)]) {
    const available = (await readFile(join(dir, "cgroup.controllers"), "utf8").catch(() => "")).trim().split(/\s+/).filter(Boolean);
    if (available.length === 0) continue;
    try {
      await writeFile(join(dir, "cgroup.subtree_control"), available.map((c) => `+${c}`).join(" "));
    } catch (err) {
      // A cgroup holding processes cannot delegate (the "no internal processes" rule); kubelet's own parents already do.
      log.debug({ dir, err: (err as Error).message }, "could not enable controllers for children");
    }
  }
}
