// Starts one conmon (2.1.6) per container and runs its create handshake: the start pipe (fd 4)
// gates conmon until it sits in the right cgroup, the sync pipe (fd 3) returns the pid or runc's error.
import { rm } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import { BerthError, Code, deadlineExceeded, describe, internal, invalid } from "../errors.js";
import { logger } from "../util/log.js";
import { bundleFiles } from "./bundle.js";
import { readPidFile, sessionMembers, signalPid } from "./proc.js";
import { killGroup, runcErrorMessage, type Runc } from "./runc.js";
import { spawnProcess } from "../util/spawn.js";

const log = logger("conmon");

const MAX_SYNC_BYTES = 64 * 1024;
const MAX_STDERR_BYTES = 8 * 1024;

export interface ConmonCreateOptions {
  conmonPath: string;
  runc: Runc;
  id: string;
  bundleDir: string;
  /** CRI log file (k8s-file driver); undefined: conmon drains output to nowhere. */
  logPath?: string | undefined;
  tty: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  exitDir: string;
  persistDir: string;
  socketDir: string;
  /** conmon's own diagnostics: error, warning, info, debug, trace. */
  logLevel: string;
  syslog: boolean;
  systemdCgroup: boolean;
  timeoutMs: number;
  /** Called with conmon's pid before it is let go, e.g. to move it into the pod's cgroup. */
  placeConmon?: ((conmonPid: number) => Promise<void>) | undefined;
  /** Aborted when the caller gave up: like the timeout, conmon and its runtime are killed and the create undone. */
  signal?: AbortSignal | undefined;
}

export interface ConmonCreated {
  /** Host pid of the container init (runc's pid file). */
  pid: number;
  /** Pid of the long-lived conmon monitor (conmon -P). */
  conmonPid: number;
}

/** conmon's command line for `runc create` under it, as CRI-O builds it (flags checked against 2.1.6). */
export function conmonCreateArgs(o: ConmonCreateOptions): string[] {
  const files = bundleFiles(o.bundleDir);
  const args = [
    "--api-version", "1",
    "-c", o.id,
    "-u", o.id,
    "-n", o.id,
    "-r", o.runc.path,
    "-b", o.bundleDir,
    "-p", files.pidFile,
    "-P", files.conmonPidFile,
    "--exit-dir", o.exitDir,
    "--persist-dir", o.persistDir,
    "--socket-dir-path", o.socketDir,
    "-l", o.logPath ? `k8s-file:${o.logPath}` : "none",
    "--log-level", o.logLevel,
  ];
  for (const a of o.runc.globalArgs()) args.push("--runtime-arg", a);
  if (o.syslog) args.push("--syslog");
  if (o.systemdCgroup) args.push("-s");
  if (o.tty) args.push("-t");
  else if (o.stdin) args.push("-i");
  if (o.stdin && !o.stdinOnce) args.push("--leave-stdin-open");
  return args;
}

/** One `{"data"|"pid": N, "message"?: "..."}` line from conmon's sync pipe. */
export function parseSyncMessage(line: string): { value: number; message?: string } {
  const v: unknown = JSON.parse(line);
  if (!v || typeof v !== "object") throw new Error(`not an object: ${line}`);
  const r = v as Record<string, unknown>;
  const value = r["data"] ?? r["pid"] ?? r["exit_code"];
  if (typeof value !== "number") throw new Error(`no pid in ${line}`);
  const message = r["message"];
  return typeof message === "string" ? { value, message } : { value };
}

/**
 * Spawns conmon detached (it outlives Berth), places it, lets it go, and waits for runc
 * create to finish under it. On any failure nothing is left: conmon, runc state, links.
 */
export async function conmonCreate(o: ConmonCreateOptions): Promise<ConmonCreated> {
  // conmon splits -l on every ':' (strtok), so such a path would be cut short silently.
  if (o.logPath?.includes(":")) throw invalid(`container "${o.id}": log path ${JSON.stringify(o.logPath)} contains ':', which conmon cannot take`);
  const files = bundleFiles(o.bundleDir);
  const child = spawnProcess(o.conmonPath, conmonCreateArgs(o), {
    cwd: o.bundleDir,
    detached: true,
    stdio: ["ignore", "ignore", "out", "out", "in"],
    env: { PATH: process.env["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", _OCI_SYNCPIPE: "3", _OCI_STARTPIPE: "4" },
  });
  const syncPipe = child.stdio[3] as Readable;
  const startPipe = child.stdio[4] as Writable;
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < MAX_STDERR_BYTES) stderr += d.toString("utf8");
  });
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on("error", () => resolve(-1));
  });
  const spawnError = new Promise<Error>((resolve) => child.on("error", resolve));
  // Read from the start: a conmon that dies while it is being placed ends the pipe before anyone
  // would listen, and a reader attached later would wait for the whole create timeout.
  const firstLine = readLine(syncPipe);
  firstLine.catch(() => undefined); // awaited below; this only keeps an early failure quiet
  const release = (): void => {
    syncPipe.destroy();
    startPipe.destroy();
    child.stderr?.destroy();
    child.unref();
  };

  try {
    o.signal?.throwIfAborted();
    const pidReady = new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    await pidReady.catch((e: unknown) => {
      throw internal(`cannot start conmon at ${o.conmonPath} for container "${o.id}": ${describe(e)}; check runtime.conmon_path`, e);
    });
    const pid = child.pid ?? 0;
    if (o.placeConmon) await o.placeConmon(pid);
    startPipe.end(Buffer.from([0]));

    // conmon's first process exits once the sync line is out; one that never does is as hung as one that never writes.
    const [line, code] = await withTimeout(Promise.all([firstLine, exited]), o.timeoutMs, spawnError, o.id, o.signal);
    if (line === undefined) {
      throw internal(
        `conmon for container "${o.id}" exited (code ${code}) without reporting a pid` + (stderr.trim() ? `: ${stderr.trim()}` : ""),
      );
    }
    let msg: { value: number; message?: string };
    try {
      msg = parseSyncMessage(line);
    } catch (e) {
      throw internal(`conmon for container "${o.id}" sent an unreadable sync message: ${describe(e)}`);
    }
    if (msg.value <= 0) {
      const why = runcErrorMessage(msg.message ?? "") || "runc create failed without a message";
      throw new BerthError(Code.INTERNAL, `create container "${o.id}": ${why}`);
    }
    const conmonPid = await readPidFile(files.conmonPidFile);
    if (conmonPid === undefined) throw internal(`conmon for container "${o.id}" wrote no pid file at ${files.conmonPidFile}`);
    release();
    return { pid: msg.value, conmonPid };
  } catch (err) {
    release();
    // Only a conmon still running: once it exited (and was reaped) its pid may belong to anyone.
    const running = child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    await cleanupFailedCreate(o, running).catch((e: unknown) => log.warn({ id: o.id, err: describe(e) }, "cleanup after failed create"));
    throw err;
  }
}

/** Kills what a failed or timed-out create may have left (by pid) and forgets the container in runc. */
async function cleanupFailedCreate(o: ConmonCreateOptions, spawnedPid: number | undefined): Promise<void> {
  const files = bundleFiles(o.bundleDir);
  // Spawned detached: conmon leads its own process group until it forks its monitor (a conmon or
  // runtime that hangs before that has every child there).
  if (spawnedPid) killGroup(spawnedPid);
  const monitor = await readPidFile(files.conmonPidFile);
  // conmon calls setsid, so its session holds conmon and any runc create it started.
  if (monitor !== undefined) for (const p of await sessionMembers(monitor)) signalPid(p, "SIGKILL");
  const r = await o.runc.run(["delete", "--force", o.id]);
  if (r.code !== 0 && !/does not exist/.test(r.stderr)) log.warn({ id: o.id, err: runcErrorMessage(r.stderr) }, "runc delete after failed create");
  await Promise.all(
    [files.pidFile, files.conmonPidFile, files.ctl, files.winsz, files.attach, `${o.socketDir}/${o.id}`].map((p) => rm(p, { force: true })),
  );
}

/** The first newline-terminated line from a stream; undefined at EOF without one. */
function readLine(stream: Readable): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const done = (v: string | undefined): void => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onEnd);
      resolve(v);
    };
    const onData = (d: Buffer): void => {
      buf += d.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl >= 0) done(buf.slice(0, nl));
      else if (buf.length > MAX_SYNC_BYTES) reject(internal("conmon sync message too long"));
    };
    const onEnd = (): void => done(buf.trim() ? buf : undefined);
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("close", onEnd);
    stream.on("error", onEnd);
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number, spawnError: Promise<Error>, id: string, signal: AbortSignal | undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(deadlineExceeded(`create container "${id}": runc create did not finish within ${ms} ms`)), ms);
    onAbort = () => reject(signal!.reason as Error);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  const failed = spawnError.then((e): never => {
    throw internal(`conmon failed: ${e.message}`, e);
  });
  try {
    return await Promise.race([p, timeout, failed]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}
