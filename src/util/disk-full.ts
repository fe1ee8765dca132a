// A full filesystem (ENOSPC, EDQUOT, SQLite's SQLITE_FULL) seen anywhere becomes one clear
// RESOURCE_EXHAUSTED error naming the path and its filesystem, instead of an INTERNAL one.
import { statfsSync } from "node:fs";
import { BerthError, Code, describe } from "../errors.js";

const ERRNOS = new Set(["ENOSPC", "EDQUOT"]);
// SQLite's primary result code 13 (SQLITE_FULL): "database or disk is full".
const SQLITE_FULL = 13;

/** Directories named when an error carries no path (a write to an open file): the daemon's root and state. */
let knownDirs: string[] = [];

export function setDiskFullDirs(dirs: string[]): void {
  knownDirs = dirs;
}

// ENOSPC from a cgroup file is no full disk: cgroup v1 refuses a process into a cpuset with no CPUs
// or memory nodes, and v2 one into a cgroup whose children have controllers, both with ENOSPC.
const CGROUP_FS = /(^|[\s'"])\/sys\/fs\/cgroup\//;

function isFull(err: unknown): boolean {
  if (err === null || typeof err !== "object") return false;
  if (isCgroupError(err)) return false;
  const e = err as { code?: unknown; errcode?: unknown; cause?: unknown; message?: unknown };
  if (typeof e.code === "string" && ERRNOS.has(e.code)) return true;
  if (typeof e.errcode === "number" && (e.errcode & 0xff) === SQLITE_FULL) return true;
  if (typeof e.message === "string" && /\b(ENOSPC|EDQUOT)\b|database or disk is full|no space left on device/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isFull(e.cause);
}

function isCgroupError(err: object): boolean {
  const path = pathOf(err);
  if (path !== undefined) return CGROUP_FS.test(path);
  const msg = (err as { message?: unknown }).message;
  return typeof msg === "string" && CGROUP_FS.test(msg);
}

function pathOf(err: unknown): string | undefined {
  const e = err as { path?: unknown; dest?: unknown; cause?: unknown };
  if (typeof e.dest === "string") return e.dest;
  if (typeof e.path === "string") return e.path;
  return e.cause && typeof e.cause === "object" ? pathOf(e.cause) : undefined;
}

function free(path: string): string {
  try {
    const s = statfsSync(path);
    return `${Math.floor((Number(s.bavail) * Number(s.bsize)) / 1024)} KiB and ${Number(s.ffree)} inodes free`;
  } catch {
    return "free space unknown";
  }
}

/** The RESOURCE_EXHAUSTED error for a disk-full failure, or undefined when `err` is something else. */
export function diskFullError(err: unknown, doing: string): BerthError | undefined {
  if (!isFull(err)) return undefined;
  if (err instanceof BerthError && err.code === Code.RESOURCE_EXHAUSTED) return err;
  const path = pathOf(err);
  const where = path !== undefined
    ? `the filesystem holding ${path} (${free(path)})`
    : `the filesystem holding ${knownDirs.length ? knownDirs.map((d) => `${d} (${free(d)})`).join(" or ") : "Berth's root or state directory"}`;
  return new BerthError(Code.RESOURCE_EXHAUSTED, `${doing}: no space left on ${where}: ${describe(err)}; free space there and retry`, { cause: err });
}
