// The runc command line with Berth's own --root: one short-lived process per verb, JSON log
// format so runc's own error message can be told apart from anything else and shown as-is.
import { BerthError, Code, deadlineExceeded, internal, notFound } from "../errors.js";
import { withSpan } from "../trace/span.js";
import { spawnProcess } from "../util/spawn.js";

const MAX_CAPTURE = 1 << 20;
const DEFAULT_TIMEOUT_MS = 60_000;

export type RuncStatus = "creating" | "created" | "running" | "paused" | "stopped";

export interface RuncState {
  id: string;
  status: RuncStatus;
  /** Host pid of the container init; 0 once stopped. */
  pid: number;
  bundle: string;
  /** RFC 3339 creation time as runc records it. */
  created: string;
}

export interface RuncResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * runc's error text from its stderr: the last `level=error` JSON (or logfmt) record's msg,
 * else the trimmed stderr itself.
 */
export function runcErrorMessage(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    if (line.startsWith("{")) {
      try {
        const rec: unknown = JSON.parse(line);
        if (rec && typeof rec === "object" && "msg" in rec && typeof rec.msg === "string") {
          const level = "level" in rec ? rec.level : undefined;
          if (level === "error" || level === "fatal") return rec.msg.trim();
        }
      } catch {
        // not JSON; fall through to logfmt
      }
    }
    const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m?.[1] !== undefined) {
      try {
        return (JSON.parse(`"${m[1]}"`) as string).trim();
      } catch {
        return m[1];
      }
    }
  }
  return stderr.trim();
}

/** runc's "no such container" wording (state, kill, delete, update, exec). */
export function isNotExist(message: string): boolean {
  return /container does not exist|container "[^"]*" does not exist/.test(message);
}

/** runc's wording when a verb needs a live process and there is none (kill, exec, pause). */
export function isNotRunning(message: string): boolean {
  return /container not running|process already finished|cannot exec in a stopped container|container is not running/i.test(message);
}

/** The gRPC code for a failed runc verb: unknown id, wrong state, or anything else. */
function codeFor(message: string): Code {
  if (isNotExist(message)) return Code.NOT_FOUND;
  if (isNotRunning(message) || /that is not stopped|is paused|not paused/.test(message)) return Code.FAILED_PRECONDITION;
  return Code.INTERNAL;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  /** The caller gave up: the runtime is killed and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** SIGKILLs a process group led by pid (a runtime spawned detached), else the pid alone. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export class RuncError extends BerthError {
  readonly runcMessage: string;
  readonly exitCode: number;
  constructor(code: Code, message: string, runcMessage: string, exitCode: number) {
    super(code, message);
    this.name = "RuncError";
    this.runcMessage = runcMessage;
    this.exitCode = exitCode;
  }
}

export class Runc {
  constructor(
    readonly path: string,
    readonly root: string,
    /** A runtime handler's own global flags (config `options`). */
    readonly options: readonly string[] = [],
  ) {}

  /** Global flags every call carries. conmon takes the same list as --runtime-arg. */
  globalArgs(): string[] {
    return [`--root=${this.root}`, "--log-format=json", ...this.options];
  }

  /**
   * Runs `runc <global> ...args`; resolves with the exit code and capped output, never rejects on a
   * non-zero code. Past `timeoutMs`, or once `signal` aborts (the caller gave up), the runtime's
   * whole process group is SIGKILLed (a runtime that hangs may have children holding its pipes).
   */
  run(args: readonly string[], opts: RunOptions = {}): Promise<RuncResult> {
    return withSpan(`runc ${args[0] ?? ""}`, { "berth.runc.args": args.join(" ") }, () => this.exec(args, opts));
  }

  private exec(args: readonly string[], opts: RunOptions): Promise<RuncResult> {
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(opts.signal.reason as Error);
        return;
      }
      const child = spawnProcess(this.path, [...this.globalArgs(), ...args], {
        stdio: [opts.input === undefined ? "ignore" : "in", "out", "out"],
        // Its own process group, so a hung runtime is killed with everything it started.
        detached: true,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      child.stdout?.on("data", (d: Buffer) => {
        if (outLen < MAX_CAPTURE) out.push(d);
        outLen += d.length;
      });
      child.stderr?.on("data", (d: Buffer) => {
        if (errLen < MAX_CAPTURE) err.push(d);
        errLen += d.length;
      });
      const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const giveUp = (why: Error): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        if (child.pid) killGroup(child.pid);
        reject(why);
      };
      const timer = setTimeout(() => giveUp(deadlineExceeded(`${this.path} ${args[0] ?? ""} did not finish within ${ms} ms; it was killed`)), ms);
      const onAbort = (): void => giveUp(opts.signal!.reason as Error);
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      child.on("error", (e) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        reject(internal(`cannot run runc at ${this.path}: ${e.message}; check runtime.runc_path`, e));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        resolve({
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        });
      });
      if (child.stdin) {
        // runc may exit (or be killed) before reading all of it: EPIPE here must not become an uncaught
        // 'error' that ends the daemon; runc's exit code and stderr say what happened.
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input);
      }
    });
  }

  /** Runs a verb that must succeed; throws RuncError with runc's own message (NOT_FOUND for an unknown id). */
  async must(id: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code === 0) return r.stdout;
    const msg = runcErrorMessage(r.stderr) || `exit code ${r.code}`;
    throw new RuncError(codeFor(msg), `runc ${args[0] ?? ""} of container "${id}" failed: ${msg}`, msg, r.code);
  }

  async state(id: string): Promise<RuncState> {
    const out = await this.must(id, ["state", id]);
    return parseState(id, out);
  }

  async start(id: string, signal?: AbortSignal): Promise<void> {
    await this.must(id, ["start", id], signal ? { signal } : {});
  }

  async kill(id: string, signal: string, all = false): Promise<void> {
    await this.must(id, ["kill", ...(all ? ["--all"] : []), id, signal]);
  }

  /** Plain delete: quick for a stopped container; `force` makes runc kill and poll with a 100 ms sleep. */
  async delete(id: string, force = false, signal?: AbortSignal): Promise<void> {
    await this.must(id, ["delete", ...(force ? ["--force"] : []), id], signal ? { signal } : {});
  }

  /** Applies OCI LinuxResources JSON through stdin (`-r -`). */
  async update(id: string, resources: object): Promise<void> {
    await this.must(id, ["update", "--resources", "-", id], { input: JSON.stringify(resources) });
  }

  async pause(id: string): Promise<void> {
    await this.must(id, ["pause", id]);
  }

  async resume(id: string): Promise<void> {
    await this.must(id, ["resume", id]);
  }

  /** Ids runc knows under this root. */
  async list(): Promise<string[]> {
    const out = await this.must("*", ["list", "--format", "json"]);
    const parsed: unknown = JSON.parse(out.trim() || "null");
    if (!Array.isArray(parsed)) return [];
    return parsed.flatMap((e: unknown) => (e && typeof e === "object" && "id" in e && typeof e.id === "string" ? [e.id] : []));
  }
}

function parseState(id: string, out: string): RuncState {
  let v: unknown;
  try {
    v = JSON.parse(out);
  } catch {
    throw internal(`runc state of container "${id}" printed no JSON: ${out.slice(0, 200)}`);
  }
  if (!v || typeof v !== "object") throw notFound("container", id);
  const r = v as Record<string, unknown>;
  const status = r["status"];
  const known: readonly string[] = ["creating", "created", "running", "paused", "stopped"];
  if (typeof status !== "string" || !known.includes(status)) {
    throw internal(`runc state of container "${id}" has an unknown status ${JSON.stringify(status)}`);
  }
  return {
    id,
    status: status as RuncStatus,
    pid: typeof r["pid"] === "number" ? r["pid"] : 0,
    bundle: typeof r["bundle"] === "string" ? r["bundle"] : "",
    created: typeof r["created"] === "string" ? r["created"] : "",
  };
}
