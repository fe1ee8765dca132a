// ExecSync through a foreground `runc exec` (faster than conmon -e --sync: ~22 ms for `true`):
// runc gives the process real pipes, output is capped per stream, a timeout kills the exec's whole session.
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { BerthError, Code, deadlineExceeded, invalid } from "../errors.js";
import { spawnProcess } from "../util/spawn.js";
import { procStat, readPidFile, sessionIdentities, signalIdentity, signalPid, type ProcIdentity } from "./proc.js";
import { isNotRunning, runcErrorMessage, type Runc } from "./runc.js";

export const MAX_EXEC_OUTPUT = 16 * 1024 * 1024;
/** After killing on timeout, how long runc gets to notice before it is killed itself. */
const KILL_GRACE_MS = 2_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ExecSyncOptions {
  /** 0: no limit (CRI's meaning of a zero timeout). */
  timeoutMs: number;
  /** Per stream; bytes past it are read and dropped so the command is never blocked. */
  maxOutputBytes?: number;
}

export interface ExecSyncResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

class CappedSink {
  #chunks: Buffer[] = [];
  #len = 0;
  truncated = false;
  constructor(private readonly cap: number) {}
  push(d: Buffer): void {
    const room = this.cap - this.#len;
    if (room <= 0) {
      this.truncated = this.truncated || d.length > 0;
      return;
    }
    const take = d.length <= room ? d : d.subarray(0, room);
    if (take.length < d.length) this.truncated = true;
    this.#chunks.push(take);
    this.#len += take.length;
  }
  buffer(): Buffer {
    return Buffer.concat(this.#chunks, this.#len);
  }
}

/** Runs cmd in container id and returns its exit code and output; throws DEADLINE_EXCEEDED on timeout. */
export async function execSync(runc: Runc, execDir: string, id: string, cmd: readonly string[], opts: ExecSyncOptions): Promise<ExecSyncResult> {
  if (cmd.length === 0 || cmd[0] === "") throw invalid(`exec in container "${id}": the command is empty`);
  const cap = opts.maxOutputBytes ?? MAX_EXEC_OUTPUT;
  const pidFile = join(execDir, `${randomUUID()}.pid`);
  // --tty=false: runc would otherwise copy `terminal` from the container's own process.
  const args = [...runc.globalArgs(), "exec", "--tty=false", "--pid-file", pidFile, id, ...cmd];
  // posix_spawn: the call does not wait for a fork of the whole daemon. Own session: on timeout,
  // everything runc started before the exec's setsid goes with it.
  const child = spawnProcess(runc.path, args, { detached: true, stdio: ["ignore", "out", "out"] });
  const stdout = child.stdout!;
  const stderr = child.stderr!;
  const out = new CappedSink(cap);
  const err = new CappedSink(cap);
  stdout.on("data", (d: Buffer) => out.push(d));
  stderr.on("data", (d: Buffer) => err.push(d));

  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let grace: NodeJS.Timeout | undefined;
  try {
    const status = await new Promise<number>((resolve, reject) => {
      child.on("error", (e) => reject(new BerthError(Code.INTERNAL, `exec in container "${id}": cannot run runc at ${runc.path}: ${e.message}`)));
      child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
      if (opts.timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          void killExecTree(child, pidFile).finally(() => {
            // Something that left the session may still hold the pipes: stop waiting for them.
            grace = setTimeout(() => {
              stdout.destroy();
              stderr.destroy();
              // Only while Node has not reaped runc: after that its pid may name another process.
              if (child.pid && unreaped(child)) signalPid(child.pid, "SIGKILL");
            }, KILL_GRACE_MS);
          });
        }, Math.min(opts.timeoutMs, MAX_TIMER_MS)); // above 2^31-1 ms setTimeout would fire after 1 ms
      }
    });
    if (timedOut) {
      throw deadlineExceeded(`exec in container "${id}" timed out after ${opts.timeoutMs} ms: ${JSON.stringify(cmd)}; the command and its processes were killed`);
    }
    // runc exits 255 for its own failures and then never wrote the pid file.
    if (status === 255 && (await readPidFile(pidFile)) === undefined) {
      const msg = runcErrorMessage(err.buffer().toString("utf8"));
      throw new BerthError(isNotRunning(msg) ? Code.FAILED_PRECONDITION : Code.UNKNOWN, `exec in container "${id}" failed: ${msg}`);
    }
    return { exitCode: status, stdout: out.buffer(), stderr: err.buffer(), stdoutTruncated: out.truncated, stderrTruncated: err.truncated };
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    // Not awaited: the answer need not wait for the unlink (a sync one blocked the loop up to ~8 ms
    // on a busy disk); a file left by a crash right here goes with the exec dir at the next start.
    void rm(pidFile, { force: true }).catch(() => undefined);
  }
}

/** runc as the timeout sees it: our child, which Node reaps (and sets exitCode or signalCode). */
export interface RuncChild {
  pid?: number | undefined;
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
}

/** True while runc's pid is ours: Node has not reaped it, so the kernel cannot reuse it. */
const unreaped = (c: RuncChild): boolean => c.exitCode === null && c.signalCode === null;

/**
 * SIGKILL to the exec process's session (its leader, children, orphans adopted by init) and to
 * runc's, never to a reused pid. The pid file's pid L counts as the exec only while runc (still
 * unreaped) is its parent; a live L with another parent may be a new process after a reuse and is
 * left alone. With L gone, processes whose session id is L are the exec's orphans: Linux keeps a
 * pid number allocated while any process uses it as a session id. Every victim is signalled only
 * if its start time still matches the one read in the scan. Returns the pids it signalled.
 */
export async function killExecTree(runc: RuncChild, pidFile: string): Promise<number[]> {
  const victims: ProcIdentity[] = [];
  const leader = await readPidFile(pidFile);
  if (leader !== undefined) {
    const l = await procStat(leader);
    const ours = l === undefined || (runc.pid !== undefined && l.ppid === runc.pid && unreaped(runc));
    if (ours) victims.push(...(await sessionIdentities(leader)));
  }
  if (runc.pid !== undefined && unreaped(runc)) {
    for (const p of await sessionIdentities(runc.pid)) if (p.pid !== runc.pid) victims.push(p);
  }
  // The leader first: killing a member it waits on first would let it exit before its own signal.
  victims.sort((a, b) => Number(b.pid === leader) - Number(a.pid === leader));
  const signalled: number[] = [];
  for (const v of victims) if (await signalIdentity(v, "SIGKILL")) signalled.push(v.pid);
  return signalled;
}
