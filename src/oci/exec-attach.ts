// Streaming exec through `conmon -e --exec-attach` (podman's model): conmon gives the process a pty
// or real pipes, serves them on an attach socket, applies resizes from its ctl fifo, reports pid and exit.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readFile, rm, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { BerthError, Code, describe, internal } from "../errors.js";
import { logger } from "../util/log.js";
import { AttachSocket } from "./attach-socket.js";
import { parseSyncMessage } from "./conmon.js";
import { SyncLines } from "./sync-lines.js";
import { processAlive, readPidFile, sessionMembers, signalPid } from "./proc.js";
import { isNotRunning, runcErrorMessage, type Runc } from "./runc.js";

const log = logger("exec");
/** conmon's attach socket and the runc exec must be ready within this (a loaded host is slow). */
const READY_TIMEOUT_MS = 60_000;

export interface ExecAttachOptions {
  conmonPath: string;
  runc: Runc;
  containerId: string;
  /** The container's bundle: its config.json gives the process template (env, user, cwd, caps...). */
  containerBundle: string;
  /** Parent of per-session dirs (short: conmon puts its socket and fifos there). */
  execRoot: string;
  socketDir: string;
  cmd: readonly string[];
  tty: boolean;
  stdin: boolean;
  logLevel: string;
  syslog: boolean;
  systemdCgroup: boolean;
  /** Terminal size to apply before the process starts. */
  initialSize?: { width: number; height: number } | undefined;
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BerthError(Code.DEADLINE_EXCEEDED, `${what} did not happen within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * One exec session. start() leaves the process running and attached; `exit` resolves with its
 * exit code; kill() ends it early; everything made on disk goes when conmon is done.
 */
export class ExecAttach {
  readonly id: string;
  readonly dir: string;
  socket!: AttachSocket;
  /** Resolves with the exit code (128+n for a signal), rejects when conmon failed. */
  exit!: Promise<number>;
  #child: ChildProcess | undefined;
  #ctl: FileHandle | undefined;
  #pid: number | undefined;
  #cleaned: Promise<void> | undefined;
  #syncClosed: Promise<void> = Promise.resolve();

  private constructor(private readonly o: ExecAttachOptions) {
    this.id = randomBytes(16).toString("hex");
    this.dir = join(o.execRoot, this.id);
  }

  static async start(o: ExecAttachOptions): Promise<ExecAttach> {
    const e = new ExecAttach(o);
    try {
      await e.#start();
      return e;
    } catch (err) {
      await e.kill();
      await e.cleanup();
      throw err;
    }
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  async #start(): Promise<void> {
    const o = this.o;
    const t0 = performance.now();
    await mkdir(this.dir, { mode: 0o700 });
    const spec = JSON.parse(await readFile(join(o.containerBundle, "config.json"), "utf8")) as { process?: Record<string, unknown> };
    if (!spec.process) throw internal(`exec in container "${o.containerId}": its bundle has no process spec`);
    const proc: Record<string, unknown> = { ...spec.process, args: [...o.cmd], terminal: o.tty };
    delete proc["consoleSize"];
    if (o.tty) {
      const env = Array.isArray(proc["env"]) ? (proc["env"] as string[]) : [];
      if (!env.some((v) => v.startsWith("TERM="))) proc["env"] = [...env, "TERM=xterm"];
    }
    const processJson = join(this.dir, "process.json");
    await writeFile(processJson, JSON.stringify(proc), { mode: 0o600 });

    const args = [
      "--api-version", "1",
      "-c", o.containerId,
      "-u", this.id,
      "-n", o.containerId,
      "-r", o.runc.path,
      "-b", this.dir,
      "-p", join(this.dir, "pidfile"),
      "-P", join(this.dir, "conmon-pidfile"),
      "--exit-dir", this.dir,
      "--socket-dir-path", o.socketDir,
      "-l", "none",
      "--log-level", o.logLevel,
      "-e", "--exec-attach",
      "--exec-process-spec", processJson,
    ];
    for (const a of o.runc.globalArgs()) args.push("--runtime-arg", a);
    if (o.syslog) args.push("--syslog");
    if (o.systemdCgroup) args.push("-s");
    if (o.tty) args.push("-t");
    else if (o.stdin) args.push("-i");

    const child = spawn(o.conmonPath, args, {
      cwd: this.dir,
      detached: true,
      stdio: ["ignore", "ignore", "pipe", "pipe", "pipe", "pipe"],
      env: { PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin", _OCI_SYNCPIPE: "3", _OCI_STARTPIPE: "4", _OCI_ATTACHPIPE: "5" },
    });
    this.#child = child;
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      if (stderr.length < 8192) stderr += d;
    });
    const sync = new SyncLines(child.stdio[3] as Readable);
    this.#syncClosed = sync.closed;
    const attachPipe = new SyncLines((child.stdio as unknown as Readable[])[5]!);
    const startPipe = child.stdio[4] as Writable;
    startPipe.on("error", () => undefined);
    const spawned = new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (err) => reject(internal(`cannot start conmon at ${o.conmonPath}: ${err.message}; check runtime.conmon_path`, err)));
    });
    await spawned;
    const what = `exec in container "${o.containerId}"`;
    const fail = (msg: string): BerthError => internal(`${what}: ${msg}` + (stderr.trim() ? ` (conmon: ${stderr.trim()})` : ""));

    // 1: conmon sets up its attach socket, then says so on the attach pipe.
    const tSpawned = performance.now();
    startPipe.write(Buffer.from([0]));
    const ready = await timeout(attachPipe.next(), READY_TIMEOUT_MS, `${what}: conmon's attach socket`);
    if (ready === undefined) throw fail("conmon exited before its attach socket was ready");
    const readyMsg = parseSyncMessage(ready);
    if (readyMsg.value < 0) throw fail(readyMsg.message ?? "conmon could not set up the attach socket");
    this.socket = await AttachSocket.connect(join(o.socketDir, this.id, "attach"), what);
    if (o.tty && o.initialSize) await this.resize(o.initialSize.width, o.initialSize.height);

    // 2: runc exec runs; conmon reports the pid, then later the exit code.
    const tAttached = performance.now();
    startPipe.end(Buffer.from([0]));
    const pidLine = await timeout(sync.next(), READY_TIMEOUT_MS, `${what}: runc exec`);
    if (pidLine === undefined) throw fail("conmon exited without reporting the exec's pid");
    const pidMsg = parseSyncMessage(pidLine);
    if (pidMsg.value <= 0) {
      const why = runcErrorMessage(pidMsg.message ?? "") || "runc exec failed without a message";
      throw new BerthError(isNotRunning(why) ? Code.FAILED_PRECONDITION : Code.UNKNOWN, `${what} failed: ${why}`);
    }
    this.#pid = pidMsg.value;
    this.exit = sync.next().then((line) => {
      if (line === undefined) throw fail("conmon exited without reporting the exit code");
      return parseSyncMessage(line).value;
    });
    this.exit.catch(() => undefined);
    const ms = { spawn: tSpawned - t0, attach: tAttached - tSpawned, runc_exec: performance.now() - tAttached };
    log.debug({ id: this.id, container: o.containerId, pid: this.#pid, ms }, "exec started");
  }

  /** TIOCSWINSZ on the session's pty, through conmon's ctl fifo ("1 <height> <width>"). */
  async resize(width: number, height: number): Promise<void> {
    if (!this.o.tty) return;
    try {
      this.#ctl ??= await open(join(this.dir, "ctl"), constants.O_WRONLY | constants.O_NONBLOCK);
      await this.#ctl.write(`1 ${Math.trunc(height)} ${Math.trunc(width)}\n`);
    } catch (e) {
      log.debug({ id: this.id, err: describe(e) }, "resize not applied");
    }
  }

  /** SIGKILL to the exec process and its session, and to a conmon that has not got that far. */
  async kill(): Promise<void> {
    if (this.#pid !== undefined) {
      for (const p of [this.#pid, ...(await sessionMembers(this.#pid))]) signalPid(p, "SIGKILL");
      return;
    }
    const child = this.#child;
    if (child?.pid && child.exitCode === null && child.signalCode === null) signalPid(child.pid, "SIGKILL");
    const monitor = await readPidFile(join(this.dir, "conmon-pidfile"));
    if (monitor !== undefined) for (const p of await sessionMembers(monitor)) signalPid(p, "SIGKILL");
  }

  /** Waits for conmon to finish (bounded), then removes the session's files. Idempotent. */
  cleanup(): Promise<void> {
    this.#cleaned ??= this.#cleanup();
    return this.#cleaned;
  }

  async #cleanup(): Promise<void> {
    this.socket?.close();
    await this.#ctl?.close().catch(() => undefined);
    this.#ctl = undefined;
    // conmon exits right after reporting the exit code (its sync pipe closes then); give it a moment, then make sure.
    await timeout(this.#syncClosed, 2000, "conmon exit").catch(() => undefined);
    const child = this.#child;
    if (child) {
      for (const s of child.stdio) s?.destroy();
      child.unref();
    }
    const monitor = await readPidFile(join(this.dir, "conmon-pidfile"));
    if (monitor !== undefined && (await processAlive(monitor))) for (const p of await sessionMembers(monitor)) signalPid(p, "SIGKILL");
    await Promise.all([rm(this.dir, { recursive: true, force: true }), rm(join(this.o.socketDir, this.id), { force: true })]);
  }
}
