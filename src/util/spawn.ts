// Starts child processes with posix_spawn (glibc: clone with CLONE_VM|CLONE_VFORK) through koffi.
// Node's spawn() forks the whole daemon on its loop, copying its page tables: 1.6 ms at 100 MiB RSS on a quiet host, ~29 ms under churn.
import { spawn as nodeSpawn } from "node:child_process";
import { channel } from "node:diagnostics_channel";
import { EventEmitter } from "node:events";
import { accessSync, closeSync, constants as fsConstants } from "node:fs";
import { Socket } from "node:net";
import { constants } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { errnoName, lastErrno, libcFunc } from "./libc.js";

/** Per child fd: nothing (/dev/null), a pipe the child reads ("in"), a pipe it writes ("out"), or an open fd of ours. */
export type FdSpec = "ignore" | "in" | "out" | number;

export interface SpawnOptions {
  /** Index = the child's fd; 0, 1 and 2 default to "ignore". */
  stdio?: readonly FdSpec[];
  /** The child's whole environment (default: the daemon's). */
  env?: NodeJS.ProcessEnv | Readonly<Record<string, string>>;
  cwd?: string;
  /** A new session and process group led by the child (Node's `detached`). */
  detached?: boolean;
}

interface Libc {
  spawn: {
    async(pid: number[], file: string, fa: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[], done: (err: unknown, rc: number) => void): void;
  };
  faInit(fa: Buffer): number;
  faDestroy(fa: Buffer): number;
  faDup2(fa: Buffer, fd: number, to: number): number;
  faOpen(fa: Buffer, fd: number, path: string, flags: number, mode: number): number;
  faChdir(fa: Buffer, path: string): number;
  attrInit(a: Buffer): number;
  attrDestroy(a: Buffer): number;
  attrFlags(a: Buffer, flags: number): number;
  attrSigmask(a: Buffer, set: Buffer): number;
  attrSigdefault(a: Buffer, set: Buffer): number;
  sigempty(set: Buffer): number;
  pipe2(fds: number[], flags: number): number;
  waitpid(pid: number, status: number[], options: number): number;
}

const O_CLOEXEC = 0o2000000;
const O_RDWR = 2;
const WNOHANG = 1;
const ENOENT = 2;
const ECHILD = 10;
// glibc's posix_spawnattr flags
const SETSIGDEF = 0x04;
const SETSIGMASK = 0x08;
const SETSID = 0x80;
// Opaque glibc structs (80, 336 and 128 bytes on x86_64 and arm64), with room to spare.
const FA_SIZE = 256;
const ATTR_SIZE = 1024;
const SIGSET_SIZE = 256;
/** Each start's time on the loop ({ file, ms }), for whoever subscribes (the latency bench's probe). */
export const SPAWN_CHANNEL = "berth:spawn";
const started = channel(SPAWN_CHANNEL);
/** How often a child whose exit no SIGCHLD reported is checked (a lost wake-up costs this much). */
const POLL_MS = 1000;

let libc: Libc | null | undefined;

function load(): Libc | null {
  if (libc !== undefined) return libc;
  const spawn = libcFunc<Libc["spawn"]>("int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)");
  if (!spawn) {
    libc = null;
    return libc;
  }
  const f = <T>(sig: string): T => libcFunc<T>(sig) as T;
  libc = {
    spawn,
    faInit: f("int posix_spawn_file_actions_init(void *fa)"),
    faDestroy: f("int posix_spawn_file_actions_destroy(void *fa)"),
    faDup2: f("int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)"),
    faOpen: f("int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, unsigned int mode)"),
    faChdir: f("int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)"),
    attrInit: f("int posix_spawnattr_init(void *attr)"),
    attrDestroy: f("int posix_spawnattr_destroy(void *attr)"),
    attrFlags: f("int posix_spawnattr_setflags(void *attr, short flags)"),
    attrSigmask: f("int posix_spawnattr_setsigmask(void *attr, void *set)"),
    attrSigdefault: f("int posix_spawnattr_setsigdefault(void *attr, void *set)"),
    sigempty: f("int sigemptyset(void *set)"),
    pipe2: f("int pipe2(_Out_ int *fds, int flags)"),
    waitpid: f("int waitpid(int pid, _Out_ int *status, int options)"),
  };
  return libc;
}

const signalNames = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([k, v]) => [v, k as NodeJS.Signals]));

/** Children not yet reaped, by pid: SIGCHLD (and a slow poll) reap them with waitpid. */
const live = new Map<number, SpawnedProcess>();
let sigchldHooked = false;

function reapAll(): void {
  for (const child of [...live.values()]) child.poll();
}

/** What callers use of a child, from posix_spawn or (without koffi) Node's own spawn. */
export interface Child extends EventEmitter {
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  readonly stdio: readonly (Readable | Writable | null)[];
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals | number): boolean;
  ref(): void;
  unref(): void;
}

/**
 * A child started by `spawnProcess`, shaped like Node's ChildProcess where Berth uses it: `pid`,
 * `stdio`/`stdin`/`stdout`/`stderr`, `exitCode`/`signalCode`, `kill`, `ref`/`unref`, and the
 * events 'spawn', 'error' (could not start), 'exit' (code, signal) and 'close' (after exit and
 * the end of every pipe it writes).
 */
export class SpawnedProcess extends EventEmitter implements Child {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdio: (Readable | Writable | null)[] = [];
  #openReaders = 0;
  #exited = false;
  #timer: NodeJS.Timeout | undefined;
  #refed = true;
  #failed = false;
  #pendingSignal: NodeJS.Signals | number | undefined;

  get stdin(): Writable | null {
    return (this.stdio[0] as Writable | null | undefined) ?? null;
  }
  get stdout(): Readable | null {
    return (this.stdio[1] as Readable | null | undefined) ?? null;
  }
  get stderr(): Readable | null {
    return (this.stdio[2] as Readable | null | undefined) ?? null;
  }

  /** Signals the child while it is unreaped (its pid cannot name another process yet); one asked
   * for while it is still being started is sent once it is. */
  kill(signal: NodeJS.Signals | number = "SIGTERM"): boolean {
    if (this.#exited || this.#failed) return false;
    if (this.pid === undefined) {
      this.#pendingSignal = signal;
      return true;
    }
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** The child no longer keeps the daemon's loop alive (its pipes are the caller's to unref). */
  unref(): void {
    this.#refed = false;
    this.#timer?.unref();
  }

  ref(): void {
    this.#refed = true;
    this.#timer?.ref();
  }

  /** @internal Counts the pipes it writes, for 'close'. */
  watch(readers: Readable[]): void {
    this.#openReaders = readers.length;
    for (const r of readers) r.once("close", () => this.#readerClosed());
  }

  /** @internal Started: watch for its exit. */
  started(pid: number): void {
    this.pid = pid;
    live.set(pid, this);
    this.#timer = setInterval(() => this.poll(), POLL_MS);
    if (!this.#refed) this.#timer.unref();
    // An exit whose SIGCHLD came before the pid was known is found here.
    setImmediate(() => this.poll());
    if (this.#pendingSignal !== undefined) this.kill(this.#pendingSignal);
    this.emit("spawn");
  }

  /** @internal Could not start: its pipes end, 'error' says why; no 'exit' or 'close' follows. */
  failed(err: Error): void {
    this.#failed = true;
    for (const s of this.stdio) s?.destroy();
    this.emit("error", err);
  }

  /** @internal Reaps the child if it exited. */
  poll(): void {
    const c = libc;
    if (this.#exited || this.pid === undefined || !c) return;
    const status = [0];
    const r = c.waitpid(this.pid, status, WNOHANG);
    if (r === this.pid) {
      const s = status[0] ?? 0;
      const sig = s & 0x7f;
      this.#exit(sig === 0 ? (s >> 8) & 0xff : null, sig === 0 ? null : (signalNames.get(sig) ?? "SIGKILL"));
    } else if (r === -1 && lastErrno() === ECHILD) {
      // Reaped elsewhere: the status is lost, the child is gone.
      this.#exit(null, null);
    }
  }

  #exit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exited = true;
    clearInterval(this.#timer);
    if (this.pid !== undefined) live.delete(this.pid);
    this.exitCode = code;
    this.signalCode = signal;
    this.emit("exit", code, signal);
    this.#maybeClose();
  }

  #readerClosed(): void {
    this.#openReaders--;
    // The last pipe closing usually means the child has just exited: look now rather than at the next poll.
    if (this.#openReaders === 0 && !this.#exited) setImmediate(() => this.poll());
    this.#maybeClose();
  }

  #maybeClose(): void {
    if (this.#exited && !this.#failed && this.#openReaders === 0) this.emit("close", this.exitCode, this.signalCode);
  }
}

function spawnError(file: string, errno: number): NodeJS.ErrnoException {
  const code = errnoName(errno);
  const e: NodeJS.ErrnoException = new Error(`spawn ${file} ${code}`);
  e.code = code;
  e.errno = -errno;
  e.syscall = `spawn ${file}`;
  e.path = file;
  return e;
}

/** Names found in a PATH before ("PATH\0name" → path); an entry that fails with ENOENT is looked up again. */
const found = new Map<string, string>();

function searchPath(env: NodeJS.ProcessEnv | Readonly<Record<string, string>>): string {
  return env["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/** `file` as run: a name without a slash is looked up in the child's PATH (as Node's spawn does). */
function resolveFile(file: string, env: NodeJS.ProcessEnv | Readonly<Record<string, string>>): string {
  if (file.includes("/")) return file;
  const path = searchPath(env);
  const key = `${path}\0${file}`;
  const hit = found.get(key);
  if (hit) return hit;
  for (const dir of path.split(":")) {
    const p = join(dir || ".", file);
    try {
      accessSync(p, fsConstants.X_OK);
      if (dir) found.set(key, p);
      return p;
    } catch {
      // next dir
    }
  }
  return file;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/**
 * Starts `file` (looked up in the child's PATH when it has no slash) with `args`. Signal dispositions and the
 * signal mask are reset to defaults in the child (Node ignores SIGPIPE). Arguments or environment
 * with a NUL byte throw, as Node's spawn does. Without koffi (see `libcUnavailable`) it is Node's
 * spawn, each pipe a socketpair.
 */
export function spawnProcess(file: string, args: readonly string[], opts: SpawnOptions = {}): Child {
  const t0 = started.hasSubscribers ? performance.now() : 0;
  const c = load();
  if (!c) {
    const stdio = (opts.stdio ?? []).map((s) => (s === "ignore" || typeof s === "number" ? s : "pipe"));
    while (stdio.length < 3) stdio.push("ignore");
    return nodeSpawn(file, args, { stdio, detached: opts.detached ?? false, ...(opts.env ? { env: opts.env } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}) }) as unknown as Child;
  }
  const argv = [file, ...args];
  const env = opts.env ?? process.env;
  const envEntries = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  for (const s of [...argv, ...envEntries, opts.cwd ?? ""]) {
    if (s.includes("\0")) throw new TypeError(`spawn ${file}: an argument, variable or directory contains a NUL byte`);
  }
  if (!sigchldHooked) {
    sigchldHooked = true;
    process.on("SIGCHLD", reapAll);
  }
  const spec = opts.stdio ?? [];
  const n = Math.max(3, spec.length);
  const child = new SpawnedProcess();
  const fa = Buffer.alloc(FA_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  const childEnds: number[] = [];
  const ourEnds: { fd: number; dir: "in" | "out"; index: number }[] = [];
  c.faInit(fa);
  c.attrInit(attr);
  try {
    for (let i = 0; i < n; i++) {
      const s = spec[i] ?? "ignore";
      if (s === "ignore") {
        c.faOpen(fa, i, "/dev/null", O_RDWR, 0);
        continue;
      }
      if (typeof s === "number") {
        c.faDup2(fa, s, i);
        continue;
      }
      const fds = [0, 0];
      if (c.pipe2(fds, O_CLOEXEC) !== 0) throw spawnError(file, lastErrno());
      const [r = -1, w = -1] = fds;
      // Both ends are close-on-exec; dup2 onto the child's fd clears the flag there only.
      const [theirs, ours] = s === "in" ? [r, w] : [w, r];
      childEnds.push(theirs);
      ourEnds.push({ fd: ours, dir: s, index: i });
      c.faDup2(fa, theirs, i);
    }
    if (opts.cwd) c.faChdir(fa, opts.cwd);
    // Every signal back to its default, glibc's own two (32, 33) included: sigfillset leaves them
    // out, and glibc then sets them to SIG_IGN in the child, which exec (and runc) would pass on.
    const set = Buffer.alloc(SIGSET_SIZE);
    set.fill(0xff, 0, 8);
    c.attrSigdefault(attr, set);
    const empty = Buffer.alloc(SIGSET_SIZE);
    c.sigempty(empty);
    c.attrSigmask(attr, empty);
    c.attrFlags(attr, SETSIGDEF | SETSIGMASK | (opts.detached ? SETSID : 0));
  } catch (err) {
    for (const fd of childEnds) closeQuietly(fd);
    for (const e of ourEnds) closeQuietly(e.fd);
    c.faDestroy(fa);
    c.attrDestroy(attr);
    throw err;
  }
  // Our ends are wrapped now, so callers can attach to them at once; the child's ends stay open
  // here until the spawn is done, so no reader sees an early end.
  const readers: Readable[] = [];
  for (const e of ourEnds) {
    const sock = new Socket({ fd: e.fd, readable: e.dir === "out", writable: e.dir === "in" });
    child.stdio[e.index] = sock;
    if (e.dir === "out") readers.push(sock);
  }
  for (let i = 0; i < n; i++) child.stdio[i] ??= null;
  child.watch(readers);
  const argvz = [...argv, null];
  const envp = [...envEntries, null];
  // On a thread of libuv's pool: the loop does not wait while the child is cloned and execs
  // (vfork suspends the calling thread until then, ~0.3-1 ms, more on a busy host).
  const attempt = (retry: boolean): void => {
    const pid = [0];
    c.spawn.async(pid, resolveFile(file, env), fa, attr, argvz, envp, (err: unknown, rc: number) => {
      // A program found earlier and moved since: look it up afresh once.
      if (!err && rc === ENOENT && retry && !file.includes("/") && found.delete(`${searchPath(env)}\0${file}`)) {
        attempt(false);
        return;
      }
      c.faDestroy(fa);
      c.attrDestroy(attr);
      for (const fd of childEnds) closeQuietly(fd);
      if (err || rc !== 0) child.failed(err instanceof Error ? err : spawnError(file, rc));
      else child.started(pid[0] ?? 0);
    });
  };
  attempt(true);
  if (t0) started.publish({ file, ms: performance.now() - t0 });
  return child;
}
