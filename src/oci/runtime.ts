// OciRuntime: what the container service calls to run containers — runc under conmon with
// Berth's own runc root — so no caller needs to know a conmon flag, a pid file or an exit file.
import { constants, existsSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Code, deadlineExceeded, failedPrecondition } from "../errors.js";
import { logger } from "../util/log.js";
import { which } from "../util/which.js";
import { attachSocketPath, bundleFiles, ociStateDirs, persistFiles, type OciStateDirs } from "./bundle.js";
import { conmonCreate } from "./conmon.js";
import { ExecAttach } from "./exec-attach.js";
import { execSync, type ExecSyncOptions, type ExecSyncResult } from "./exec-sync.js";
import { ExitWatcher, readExitFile, type ContainerExit } from "./exits.js";
import { makeLogFile, reopenLog } from "./log-reopen.js";
import { procStartTime, processAlive, readPidFile, sessionMembers, signalPid } from "./proc.js";
import { Runc, RuncError, type RuncState } from "./runc.js";
import { withSpan } from "../trace/span.js";
import { monitorAlive, unmonitoredEnd, type UnmonitoredEnd } from "./unmonitored.js";

const log = logger("oci");

/** How long a SIGKILLed container gets to be reported by conmon before stop/delete give up. */
const KILL_WAIT_MS = 10_000;
const DEFAULT_CREATE_TIMEOUT_MS = 60_000;
/** How often a wait for an exit looks whether conmon is still there to report it. */
const UNMONITORED_POLL_MS = 200;

export interface OciRuntimeOptions {
  /** Berth's runtime state dir (config `state`); the driver's dirs go under it. */
  stateDir: string;
  /** config runtime.runc_path / runtime.conmon_path: a name on PATH or an absolute path. */
  runcPath: string;
  conmonPath: string;
  /** conmon's own diagnostics level (to syslog when /dev/log exists). */
  conmonLogLevel?: "error" | "warning" | "info" | "debug" | "trace";
  systemdCgroup?: boolean;
  /** Runtime handlers (name → binary, root, global options), every configured one; none: only runc at runcPath. */
  handlers?: readonly RuntimeBinary[];
}

/** A runc-compatible runtime binary as one handler uses it. */
export interface RuntimeBinary {
  name: string;
  path: string;
  root: string;
  options: readonly string[];
}

export interface CreateContainerRequest {
  id: string;
  /** Holds config.json and rootfs (written by the spec generator). */
  bundleDir: string;
  /** The CRI log file; undefined for none. Its directory is created if missing. */
  logPath?: string | undefined;
  tty: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  /** A directory that survives Berth (and conmon) restarts: conmon writes `exit` and `oom` here. */
  persistDir: string;
  timeoutMs?: number;
  /** Optional: put conmon (pid given) into the pod's cgroup before it starts anything. */
  placeConmon?: ((conmonPid: number) => Promise<void>) | undefined;
  /** The pod's runtime handler; undefined: runc at runtime.runc_path. */
  handler?: string | undefined;
  /** Aborted when the caller gave up: conmon and the runtime are killed and the create undone. */
  signal?: AbortSignal | undefined;
}

import type { ContainerProcess } from "./container-process.js";
export type { ContainerProcess };

/** A container's liveness as seen after a restart (or any time). */
export interface MonitorReport {
  conmonAlive: boolean;
  processAlive: boolean;
  /** The exit conmon recorded, from the exit dir or the persist dir. */
  exit?: ContainerExit | undefined;
  oomKilled: boolean;
}

export class OciRuntime {
  readonly runc: Runc;
  readonly exits: ExitWatcher;
  readonly dirs: OciStateDirs;
  readonly conmonPath: string;
  readonly #opts: OciRuntimeOptions;
  readonly #syslog = existsSync("/dev/log");
  readonly #known = new Map<string, ContainerProcess>();
  /** Handler name → its runtime; the default runc is `runc` itself. */
  readonly #handlers = new Map<string, Runc>();

  private constructor(opts: OciRuntimeOptions, runcPath: string, conmonPath: string) {
    this.#opts = opts;
    this.dirs = ociStateDirs(opts.stateDir);
    this.runc = new Runc(runcPath, this.dirs.runcRoot);
    this.conmonPath = conmonPath;
    this.exits = new ExitWatcher(this.dirs.exitDir);
    for (const h of opts.handlers ?? []) this.#handlers.set(h.name, new Runc(h.path, h.root, h.options));
  }

  /** The runtime a handler names (undefined: the default runc); FailedPrecondition for a name that is not a handler. */
  runcFor(handler: string | undefined): Runc {
    if (handler === undefined) return this.runc;
    const r = this.#handlers.get(handler);
    if (!r) throw failedPrecondition(`runtime handler "${handler}" is not configured on this node`);
    return r;
  }

  /** The runtime a known container was created with. */
  #runcOf(id: string): Runc {
    const h = this.#known.get(id)?.handler;
    return (h !== undefined && this.#handlers.get(h)) || this.runc;
  }

  /** Finds runc and conmon, makes the state dirs and starts the exit watcher. */
  static async open(opts: OciRuntimeOptions): Promise<OciRuntime> {
    const runc = which(opts.runcPath);
    if (!runc) throw failedPrecondition(`runc not found at "${opts.runcPath}": install runc or set runtime.runc_path`);
    const conmon = which(opts.conmonPath);
    if (!conmon) throw failedPrecondition(`conmon not found at "${opts.conmonPath}": install conmon or set runtime.conmon_path`);
    const rt = new OciRuntime(opts, runc, conmon);
    // ExecSync pid files are scratch of one daemon's calls: any found at start is a dead daemon's.
    await rm(rt.dirs.execDir, { recursive: true, force: true });
    for (const d of [rt.dirs.runcRoot, rt.dirs.socketDir, rt.dirs.execDir, ...[...rt.#handlers.values()].map((r) => r.root)]) await mkdir(d, { recursive: true, mode: 0o700 });
    await rt.exits.start();
    return rt;
  }

  close(): void {
    this.exits.close();
  }

  /** runc create under a new conmon; resolves once the container is `created` (not started). */
  async create(req: CreateContainerRequest): Promise<ContainerProcess> {
    const runc = this.runcFor(req.handler);
    const persist = persistFiles(req.persistDir);
    await mkdir(req.persistDir, { recursive: true, mode: 0o700 });
    await Promise.all([rm(persist.exit, { force: true }), rm(persist.oom, { force: true }), this.exits.forget(req.id)]);
    // kubelet makes /var/log/pods/<pod>/<container> 0755 itself; the same when Berth makes it.
    // Names there are listable by design; the files are not readable by others.
    if (req.logPath) {
      await mkdir(dirname(req.logPath), { recursive: true, mode: 0o755 });
      await makeLogFile(req.logPath);
    }
    const started = performance.now();
    const { pid, conmonPid } = await withSpan("runc create", { "berth.container.id": req.id, "berth.runc.via": "conmon" }, () => conmonCreate({
      conmonPath: this.conmonPath,
      runc,
      id: req.id,
      bundleDir: req.bundleDir,
      logPath: req.logPath,
      tty: req.tty,
      stdin: req.stdin,
      stdinOnce: req.stdinOnce,
      exitDir: this.dirs.exitDir,
      persistDir: req.persistDir,
      socketDir: this.dirs.socketDir,
      logLevel: this.#opts.conmonLogLevel ?? "error",
      syslog: this.#syslog,
      systemdCgroup: this.#opts.systemdCgroup ?? false,
      timeoutMs: req.timeoutMs ?? DEFAULT_CREATE_TIMEOUT_MS,
      placeConmon: req.placeConmon,
      signal: req.signal,
    }));
    const [pidStartTime, conmonStartTime] = await Promise.all([procStartTime(pid), procStartTime(conmonPid)]);
    const rec: ContainerProcess = {
      id: req.id,
      bundleDir: req.bundleDir,
      persistDir: req.persistDir,
      logPath: req.logPath,
      pid,
      pidStartTime: pidStartTime ?? "",
      conmonPid,
      conmonStartTime: conmonStartTime ?? "",
      ...(req.handler !== undefined ? { handler: req.handler } : {}),
    };
    this.#known.set(req.id, rec);
    log.debug({ id: req.id, pid, conmonPid, ms: Math.round(performance.now() - started) }, "container created");
    return rec;
  }

  /** Takes back a container created by an earlier Berth (from the service's store) and reports on it. */
  async adopt(rec: ContainerProcess): Promise<MonitorReport> {
    this.#known.set(rec.id, rec);
    return this.inspect(rec);
  }

  async inspect(rec: ContainerProcess): Promise<MonitorReport> {
    const [conmonAlive, alive, exit, oomKilled] = await Promise.all([
      processAlive(rec.conmonPid, rec.conmonStartTime || undefined),
      processAlive(rec.pid, rec.pidStartTime || undefined),
      this.#exitOf(rec),
      this.#oom(rec),
    ]);
    return { conmonAlive, processAlive: alive, exit, oomKilled };
  }

  /** `signal`: the caller gave up; a runtime that has not answered is killed (its process group). */
  async start(id: string, signal?: AbortSignal): Promise<void> {
    await this.#runcOf(id).start(id, signal);
  }

  /** Signals the container's init; false when it has no live process. */
  async kill(id: string, signal: NodeJS.Signals | number): Promise<boolean> {
    const rec = this.#known.get(id);
    if (rec) {
      // Straight to the verified pid: same effect as `runc kill`, without a process per call.
      if (!(await processAlive(rec.pid, rec.pidStartTime || undefined))) return false;
      return signalPid(rec.pid, signal);
    }
    try {
      await this.#runcOf(id).kill(id, String(signal));
      return true;
    } catch (err) {
      if (err instanceof RuncError && err.code === Code.FAILED_PRECONDITION) return false;
      throw err;
    }
  }

  /** Sends signal, waits up to timeoutMs for the exit, then SIGKILLs; resolves with the exit. */
  async stop(id: string, signal: NodeJS.Signals | number, timeoutMs: number): Promise<ContainerExit> {
    let exit = await this.exits.readExit(id);
    if (exit) return exit;
    if (await this.kill(id, signal)) exit = await this.#waitEnd(id, timeoutMs, signal === "SIGKILL" || signal === 9 ? 137 : undefined);
    if (!exit) {
      await this.kill(id, "SIGKILL");
      exit = await this.#waitEnd(id, KILL_WAIT_MS, 137);
    }
    if (!exit) exit = await this.#lostMonitorExit(id);
    return exit;
  }

  async state(id: string): Promise<RuncState> {
    return this.#runcOf(id).state(id);
  }

  /**
   * Undoes a create that a killed daemon left half-done (no process was ever recorded): the conmon
   * it started, found by the bundle's conmon pid file and checked by its command line naming that
   * bundle, is killed with its session (the runtime under it), and the container is forgotten in
   * every runtime root (the record does not say which handler it was for).
   */
  async abandonCreate(id: string, bundleDir: string): Promise<void> {
    const conmon = await readPidFile(bundleFiles(bundleDir).conmonPidFile);
    if (conmon !== undefined) {
      const argv = (await readFile(`/proc/${conmon}/cmdline`, "utf8").catch(() => "")).split("\0");
      if (argv.includes(bundleDir) && argv.includes(id)) {
        const members = await sessionMembers(conmon);
        for (const p of members) signalPid(p, "SIGKILL");
        log.info({ id, conmon, killed: members.length }, "killed the conmon of a create a killed daemon left half-done");
      }
    }
    // The default runtime's state goes with the delete that follows; a handler's only where its
    // root holds the container (a handler that cannot run here must not fail every clean-up).
    for (const runc of this.#handlers.values()) {
      if (!existsSync(join(runc.root, id))) continue;
      await runc.delete(id, true).catch((e: unknown) => {
        if (!(e instanceof RuncError && e.code === Code.NOT_FOUND)) throw e;
      });
    }
    await Promise.all([this.exits.forget(id), rm(join(this.dirs.socketDir, id), { force: true })]);
  }

  /**
   * Forgets the container in runc; idempotent. A live container needs `force`, and is then
   * SIGKILLed and awaited before a plain delete: stop+delete p50 12.7 ms against 107 ms for
   * `runc delete --force`, which polls with a 100 ms sleep (bench/oci.ts).
   */
  async delete(id: string, opts: { force?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const rec = this.#known.get(id);
    if (rec && (await processAlive(rec.pid, rec.pidStartTime || undefined))) {
      if (!opts.force) {
        const st = await this.#runcOf(id).state(id).catch(() => undefined);
        if (st && st.status !== "created" && st.status !== "stopped") {
          throw failedPrecondition(`container "${id}" is ${st.status}: stop it before deleting, or delete with force`);
        }
      }
      signalPid(rec.pid, "SIGKILL");
      if (!(await this.#waitEnd(id, KILL_WAIT_MS, 137))) log.warn({ id }, "no exit reported after SIGKILL; deleting anyway");
    }
    try {
      await this.#runcOf(id).delete(id, false, opts.signal);
    } catch (err) {
      if (!(err instanceof RuncError)) throw err;
      if (err.code === Code.NOT_FOUND) {
        // already gone: delete is idempotent
      } else if (opts.force) {
        await this.#runcOf(id).delete(id, true, opts.signal).catch((e: unknown) => {
          if (!(e instanceof RuncError && e.code === Code.NOT_FOUND)) throw e;
        });
      } else {
        throw err;
      }
    }
    this.#known.delete(id);
    // conmon leaves its attach-socket link <socketDir>/<id> behind (checked with 2.1.6).
    await Promise.all([this.exits.forget(id), rm(join(this.dirs.socketDir, id), { force: true })]);
  }

  /** OCI LinuxResources, applied by runc update (all or nothing). */
  /** runc checkpoint with CRIU, leaving the container running: images into `imagePath`, dump.log into `workPath`. */
  async checkpoint(id: string, imagePath: string, workPath: string, timeoutMs: number): Promise<void> {
    await this.#runcOf(id).must(id, ["checkpoint", `--image-path=${imagePath}`, `--work-path=${workPath}`, "--leave-running", "--file-locks", id], { timeoutMs });
  }

  async update(id: string, resources: object): Promise<void> {
    await this.#runcOf(id).update(id, resources);
  }

  async pause(id: string): Promise<void> {
    await this.#runcOf(id).pause(id);
  }

  async resume(id: string): Promise<void> {
    await this.#runcOf(id).resume(id);
  }

  async execSync(id: string, cmd: readonly string[], opts: ExecSyncOptions): Promise<ExecSyncResult> {
    return execSync(this.#runcOf(id), this.dirs.execDir, id, cmd, opts);
  }

  /** After kubelet renamed the log away: conmon opens a new file at the same path (no rename: nothing to do). */
  async reopenLog(id: string, timeoutMs?: number): Promise<void> {
    const rec = this.#require(id);
    if (!rec.logPath) throw failedPrecondition(`container "${id}" has no log file to reopen`);
    if (!(await processAlive(rec.conmonPid, rec.conmonStartTime || undefined))) {
      const why = (await processAlive(rec.pid, rec.pidStartTime || undefined)) ? "its monitor (conmon) died, so nothing writes its log" : "it is not running";
      throw failedPrecondition(`container "${id}": ${why}; its log cannot be reopened`);
    }
    await reopenLog(id, bundleFiles(rec.bundleDir).ctl, rec.logPath, rec.conmonPid, timeoutMs);
  }

  /** True once conmon saw a cgroup OOM event for the container (v1 eventfd, v2 memory.events). */
  async oomKilled(id: string): Promise<boolean> {
    return this.#oom(this.#require(id));
  }

  /** Starts cmd in container id under `conmon --exec-attach`, attached; see ExecAttach. */
  async execAttach(id: string, o: { cmd: readonly string[]; tty: boolean; stdin: boolean; initialSize?: { width: number; height: number } | undefined }): Promise<ExecAttach> {
    const rec = this.#require(id);
    return ExecAttach.start({
      conmonPath: this.conmonPath,
      runc: this.runc,
      containerId: id,
      containerBundle: rec.bundleDir,
      execRoot: this.dirs.execDir,
      socketDir: this.dirs.socketDir,
      cmd: o.cmd,
      tty: o.tty,
      stdin: o.stdin,
      logLevel: this.#opts.conmonLogLevel ?? "error",
      syslog: this.#syslog,
      systemdCgroup: this.#opts.systemdCgroup ?? false,
      initialSize: o.initialSize,
    });
  }

  /** Resizes the container's own terminal through conmon's ctl fifo ("1 <height> <width>"). */
  async resizeTerminal(id: string, width: number, height: number): Promise<void> {
    const rec = this.#require(id);
    const fh = await open(bundleFiles(rec.bundleDir).ctl, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      await fh.write(`1 ${Math.trunc(height)} ${Math.trunc(width)}\n`);
    } finally {
      await fh.close();
    }
  }

  attachSocketPath(id: string): string {
    return attachSocketPath(this.dirs.socketDir, id);
  }

  known(id: string): ContainerProcess | undefined {
    return this.#known.get(id);
  }

  /** Whether the container's conmon still runs; true for a container this driver does not know. */
  async monitorAlive(id: string): Promise<boolean> {
    const rec = this.#known.get(id);
    return !rec || monitorAlive(rec);
  }

  /**
   * For a container whose conmon died: undefined while conmon runs (it reports the exit) or the
   * container process still does; otherwise how it ended, as well as can be learned.
   */
  async unmonitoredEnd(id: string): Promise<UnmonitoredEnd | undefined> {
    const rec = this.#known.get(id);
    if (!rec || (await monitorAlive(rec))) return undefined;
    return unmonitoredEnd(rec, () => this.#exitOf(rec));
  }

  /**
   * The exit within ms: conmon's report, or, once conmon is found gone (even mid-wait), the end
   * read from /proc; ifGone is the code to report for a process gone without a trace.
   */
  async #waitEnd(id: string, ms: number, ifGone?: number): Promise<ContainerExit | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      const exit = await this.exits.waitForExit(id, Math.max(0, Math.min(left, UNMONITORED_POLL_MS)));
      if (exit) return exit;
      const rec = this.#known.get(id);
      if (rec && !(await monitorAlive(rec))) {
        const end = await unmonitoredEnd(rec, () => this.#exitOf(rec), ifGone);
        if (end) return end.exit;
      }
      if (left <= UNMONITORED_POLL_MS) return undefined;
    }
  }

  #require(id: string): ContainerProcess {
    const rec = this.#known.get(id);
    if (!rec) throw failedPrecondition(`container "${id}" is not known to the OCI runtime: create or adopt it first`);
    return rec;
  }

  async #exitOf(rec: ContainerProcess): Promise<ContainerExit | undefined> {
    return (await this.exits.readExit(rec.id)) ?? (await readExitFile(persistFiles(rec.persistDir).exit, rec.id));
  }

  /** Two existence checks, synchronous: they sit between an exit and its event (see readExitFile). */
  async #oom(rec: ContainerProcess): Promise<boolean> {
    return existsSync(persistFiles(rec.persistDir).oom) || existsSync(bundleFiles(rec.bundleDir).oom);
  }

  /** No exit after SIGKILL: if conmon is gone nobody will write one, so report what is known. */
  async #lostMonitorExit(id: string): Promise<ContainerExit> {
    const rec = this.#known.get(id);
    if (rec && !(await processAlive(rec.conmonPid, rec.conmonStartTime || undefined))) {
      const persisted = await this.#exitOf(rec);
      if (persisted) return persisted;
      if (!(await processAlive(rec.pid, rec.pidStartTime || undefined))) {
        log.warn({ id }, "container monitor died before recording an exit; reporting 137");
        return { id, code: 137, timestampNs: BigInt(Date.now()) * 1_000_000n };
      }
    }
    throw deadlineExceeded(`container "${id}" did not exit within ${KILL_WAIT_MS} ms of SIGKILL`);
  }
}
