// A response body that fails with DEADLINE_EXCEEDED when the server sends nothing for too long.
// The clock runs only while Berth waits for the network, never while its reader applies backpressure.
import { Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import { BerthError, Code } from "../../errors.js";

export class GuardedBody extends Readable {
  private timer: NodeJS.Timeout | undefined;
  private waitingForReader = false;
  private ended = false;

  constructor(private readonly src: IncomingMessage, private readonly stallMs: number, private readonly what: string) {
    super({ highWaterMark: 256 * 1024 });
    src.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) {
        // Our reader is slow: stop the network side and the clock until it asks for more.
        this.waitingForReader = true;
        src.pause();
        this.stopClock();
      } else this.startClock();
    });
    src.on("end", () => {
      this.ended = true;
      this.stopClock();
      this.push(null);
    });
    src.on("aborted", () => this.fail(new BerthError(Code.UNAVAILABLE, `${what}: the connection closed before the body was complete`)));
    src.on("error", (err) => this.fail(err));
    src.on("close", () => {
      if (!this.ended && !src.complete) this.fail(new BerthError(Code.UNAVAILABLE, `${what}: the connection closed before the body was complete`));
    });
    this.startClock();
  }

  /** The number of bytes the server said it would send, if it said. */
  get contentLength(): number | undefined {
    const n = Number(this.src.headers["content-length"]);
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }

  override _read(): void {
    if (this.waitingForReader) {
      this.waitingForReader = false;
      this.startClock();
      this.src.resume();
    }
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.stopClock();
    this.src.destroy();
    cb(err);
  }

  private fail(err: Error): void {
    this.stopClock();
    if (!this.destroyed && !this.ended) this.destroy(err);
  }

  private startClock(): void {
    if (this.ended || this.destroyed) return;
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(() => {
        this.fail(new BerthError(Code.DEADLINE_EXCEEDED, `${this.what}: no data from the registry for ${this.stallMs} ms`));
      }, this.stallMs);
    }
  }

  private stopClock(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
