// The local terminal for interactive `berth exec -it` / `attach`: raw mode while the session
// runs (always restored, also on signals), and the window size now and on every SIGWINCH.
import type { ReadStream, WriteStream } from "node:tty";

export interface TerminalSize {
  width: number;
  height: number;
}

export interface LocalTerminal {
  /** The current size (columns × rows); undefined when stdout is not a terminal. */
  size(): TerminalSize | undefined;
  /** Calls `fn` with the new size on every window change until restore(). */
  onResize(fn: (s: TerminalSize) => void): void;
  /** The size now, then each change, until restore() (what the resize stream sends). */
  sizes(): AsyncIterable<TerminalSize>;
  /** Leaves raw mode and stops watching; safe to repeat. */
  restore(): void;
}

/** Puts stdin in raw mode when it is a terminal (keys go to the container as typed: ^C, ^D, arrows). */
export function openTerminal(stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout): LocalTerminal {
  const input = stdin as ReadStream;
  const output = stdout as WriteStream;
  const wasRaw = input.isTTY ? input.isRaw : false;
  if (input.isTTY) input.setRawMode(true);
  const listeners: Array<() => void> = [];
  const size = (): TerminalSize | undefined => (output.isTTY && output.columns > 0 ? { width: output.columns, height: output.rows } : undefined);
  let restored = false;
  let waiting: (() => void) | undefined;
  const wake = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  const restore = () => {
    if (restored) return;
    restored = true;
    wake();
    if (input.isTTY) input.setRawMode(wasRaw);
    for (const l of listeners) process.off("SIGWINCH", l);
    process.off("exit", restore);
  };
  // Whatever ends the process, the user's terminal is not left raw.
  process.once("exit", restore);
  const onResize = (fn: (s: TerminalSize) => void) => {
    const l = () => {
      const s = size();
      if (s) fn(s);
    };
    listeners.push(l);
    process.on("SIGWINCH", l);
  };
  async function* sizes(): AsyncGenerator<TerminalSize> {
    const queue: TerminalSize[] = [];
    const first = size();
    if (first) queue.push(first);
    onResize((s) => {
      queue.push(s);
      wake();
    });
    while (!restored) {
      const next = queue.shift();
      if (next) yield next;
      else await new Promise<void>((r) => (waiting = r));
    }
  }
  return { size, onResize, sizes, restore };
}
