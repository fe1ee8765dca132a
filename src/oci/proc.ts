// What /proc says about a process the OCI driver did not (or no longer) parent: its start
// time (a pid plus start time names one process for good), its session, its pid namespace.
import { readFile, readdir, readlink } from "node:fs/promises";

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parens). */
async function statFields(pid: number): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  // fields[0] is field 3 (state) of proc(5).
  return text.slice(close + 2).trim().split(" ");
}

/** Start time in clock ticks since boot (proc(5) field 22), or undefined when the pid is gone. */
export async function procStartTime(pid: number): Promise<string | undefined> {
  const f = await statFields(pid);
  const st = f?.[19];
  // A zombie still has a start time but no longer runs anything worth signalling.
  if (!f || st === undefined || f[0] === "Z" || f[0] === "X") return undefined;
  return st;
}

/** True when pid runs and (if given) started at startTime, so a reused pid does not count. */
export async function processAlive(pid: number, startTime?: string): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const st = await procStartTime(pid);
  return st !== undefined && (startTime === undefined || st === startTime);
}

/** A process named for good: a pid names another process once the first is reaped. */
export interface ProcIdentity {
  pid: number;
  /** proc(5) field 22, clock ticks since boot. */
  startTime: string;
}

/** What /proc/<pid>/stat says about a live (not zombie) process; undefined when gone. */
export async function procStat(pid: number): Promise<{ ppid: number; sid: number; startTime: string } | undefined> {
  const f = await statFields(pid);
  const st = f?.[19];
  if (!f || st === undefined || f[0] === "Z" || f[0] === "X") return undefined;
  return { ppid: Number(f[1]), sid: Number(f[3]), startTime: st };
}

/**
 * Signals the process only while its pid still names it (same start time), so a pid that was
 * reaped and reused is never signalled; returns whether it signalled. Node has no pidfd: the
 * window left is the one between this read and kill(2).
 */
export async function signalIdentity(id: ProcIdentity, signal: NodeJS.Signals | number): Promise<boolean> {
  if ((await procStartTime(id.pid)) !== id.startTime) return false;
  return signalPid(id.pid, signal);
}

/** Live processes whose session id is sid, each with its start time (one /proc scan). */
export async function sessionIdentities(sid: number): Promise<ProcIdentity[]> {
  const out: ProcIdentity[] = [];
  const names = await readdir("/proc");
  await Promise.all(
    names.map(async (n) => {
      const pid = Number(n);
      if (!Number.isInteger(pid) || pid <= 0) return;
      const s = await procStat(pid);
      if (s && s.sid === sid) out.push({ pid, startTime: s.startTime });
    }),
  );
  return out;
}

/** Pids whose session id is sid (host view); one /proc scan, for rare paths such as timeouts. */
export async function sessionMembers(sid: number): Promise<number[]> {
  const out: number[] = [];
  const names = await readdir("/proc");
  await Promise.all(
    names.map(async (n) => {
      const pid = Number(n);
      if (!Number.isInteger(pid) || pid <= 0) return;
      const f = await statFields(pid);
      // fields: state ppid pgrp session ...
      if (f && Number(f[3]) === sid && f[0] !== "Z") out.push(pid);
    }),
  );
  return out;
}

/** The pid namespace link of a process ("pid:[4026531836]"), undefined when gone. */
export async function pidNamespace(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** A pid file as runc and conmon write it (decimal, maybe no newline); undefined when absent. */
export async function readPidFile(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Signals a pid, returning false instead of throwing when it is already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}
