// conmon's sync and attach pipes as a line reader: one `{"data": N}` message per line, read in
// order, bounded in size, with EOF (conmon exited) as undefined and as the `closed` promise.
import type { Readable } from "node:stream";

const MAX_SYNC_LINE = 64 * 1024;

/** Line reader over conmon's sync/attach pipes: `{"data": N}` messages, one per line. */
export class SyncLines {
  #buf = "";
  #lines: string[] = [];
  #waiters: Array<(l: string | undefined) => void> = [];
  #ended = false;
  #onEnd: () => void = () => undefined;
  /** Resolves when the pipe closed (conmon exited). */
  readonly closed = new Promise<void>((resolve) => (this.#onEnd = resolve));
  constructor(stream: Readable) {
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => {
      this.#buf += d;
      if (this.#buf.length > MAX_SYNC_LINE) this.#buf = "";
      for (let nl = this.#buf.indexOf("\n"); nl >= 0; nl = this.#buf.indexOf("\n")) {
        this.#push(this.#buf.slice(0, nl));
        this.#buf = this.#buf.slice(nl + 1);
      }
    });
    const end = (): void => {
      if (this.#ended) return;
      this.#ended = true;
      this.#onEnd();
      if (this.#buf.trim()) this.#push(this.#buf);
      for (const w of this.#waiters.splice(0)) w(undefined);
    };
    stream.on("end", end);
    stream.on("close", end);
    stream.on("error", end);
  }
  #push(line: string): void {
    const w = this.#waiters.shift();
    if (w) w(line);
    else this.#lines.push(line);
  }
  /** The next line; undefined at EOF. */
  next(): Promise<string | undefined> {
    const l = this.#lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
