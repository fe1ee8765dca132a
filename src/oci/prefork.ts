// A spare process forked ahead of need, so ExecSync does not fork the daemon on the call's path:
// spawn() blocks Node's loop for the fork of the whole daemon and the child's exec (bench: ~2 ms at
// 50 MiB RSS, 12-18 ms at 150 MiB on a loaded machine); the spare is a `/bin/sh -s` that execs the command it is handed.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { accessSync, constants } from "node:fs";
import type { Readable, Writable } from "node:stream";

export type Piped = ChildProcessByStdio<Writable, Readable, Readable>;

const SHELL = "/bin/sh";

/** `'…'` for sh: every byte literal (a quote inside is closed, escaped, reopened). */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The one line the spare runs: exec the command in place (same pid, session and pipes), stdin from /dev/null. */
export function execLine(file: string, args: readonly string[]): string {
  return `exec ${[file, ...args].map(shQuote).join(" ")} </dev/null\n`;
}

/**
 * Holds one spare shell in its own session (`detached`) with stdout and stderr piped. `take` hands
 * it the command and returns it as the command's ChildProcess (exec keeps the pid). The caller
 * asks for a `refill` once its answer is out: a fork while the command runs competes with it for
 * a CPU (bench: runc exec 26 -> 35 ms), and one right at the end holds up the answer. Without a
 * spare (first use, two calls at once, no /bin/sh) `take` returns undefined and the caller spawns.
 */
export class Prefork {
  #spare: Piped | undefined;
  #closed = false;
  #timer: NodeJS.Immediate | undefined;
  readonly usable: boolean;

  constructor() {
    try {
      accessSync(SHELL, constants.X_OK);
      this.usable = true;
    } catch {
      this.usable = false;
    }
  }

  /** A live spare is waiting. */
  get ready(): boolean {
    const s = this.#spare;
    return !!s && s.exitCode === null && s.signalCode === null;
  }

  /** The waiting spare itself (tests kill it to show a dead one is never handed out). */
  spareForTest(): Piped | undefined {
    return this.#spare;
  }

  take(file: string, args: readonly string[]): Piped | undefined {
    if (!this.usable || this.#closed) return undefined;
    // NUL cannot pass through execve; spawn reports it as it always did.
    if (file.includes("\0") || args.some((a) => a.includes("\0"))) return undefined;
    const child = this.#spare;
    this.#spare = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.stdin.writable) return undefined;
    child.stdin.end(execLine(file, args));
    child.ref();
    for (const p of [child.stdout, child.stderr]) (p as unknown as { ref?: () => void }).ref?.();
    return child;
  }

  /** Forks a spare on the loop's next turn unless one is there. */
  refill(): void {
    this.#refillSoon();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearImmediate(this.#timer);
    const s = this.#spare;
    this.#spare = undefined;
    if (s && s.exitCode === null && s.signalCode === null) s.kill("SIGKILL");
  }

  #refillSoon(): void {
    if (!this.usable || this.#closed || this.#timer) return;
    this.#timer = setImmediate(() => {
      this.#timer = undefined;
      if (this.#closed || this.#spare) return;
      const s = spawn(SHELL, ["-s"], { detached: true, stdio: ["pipe", "pipe", "pipe"] });
      // A spare that dies unused (killed from outside) is dropped; the next take spawns directly.
      s.once("exit", () => {
        if (this.#spare === s) this.#spare = undefined;
      });
      // The spare gone between the check and the write: the caller sees its exit, not an EPIPE crash.
      s.stdin.on("error", () => undefined);
      s.once("error", () => {
        if (this.#spare === s) this.#spare = undefined;
      });
      // Unused, the spare must not keep the daemon alive.
      s.unref();
      for (const p of [s.stdin, s.stdout, s.stderr]) (p as unknown as { unref?: () => void }).unref?.();
      this.#spare = s;
    });
  }
}
