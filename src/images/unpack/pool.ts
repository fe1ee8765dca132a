// A few long-lived unpack workers (starting one costs ~50 ms, more than a small layer takes),
// each running one layer apply at a time; idle ones are unref'd and stop after a while.
import os from "node:os";
import type { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { BerthError, describe, internal } from "../../errors.js";
import { BlobInput } from "./blob-input.js";
import type { ApplyJob, ApplyResult, ApplyStats } from "./limits.js";
import type { FromWorker, ToWorker } from "./protocol.js";
import { burstOver } from "../content/reclaim.js";

// Chunks in flight to a worker before it acknowledges one (~1 MiB of 64 KiB reads).
const WINDOW = 16;

type Outcome = ApplyResult & ApplyStats;

class UnpackWorker {
  readonly #worker: Worker;
  #onMessage: ((m: FromWorker) => void) | null = null;
  #onExit: ((why: string) => void) | null = null;
  #error: unknown = null;
  dead = false;
  idleTimer: NodeJS.Timeout | null = null;

  constructor(onDeath: (w: UnpackWorker) => void) {
    // A hostile layer must not grow the daemon: the worker's heap is capped on its own.
    this.#worker = new Worker(new URL("./worker.js", import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: 512 },
      stdout: false,
      stderr: false,
    });
    this.#worker.on("message", (m: FromWorker) => this.#onMessage?.(m));
    this.#worker.on("error", (err) => (this.#error ??= err));
    this.#worker.once("exit", (code) => {
      this.dead = true;
      this.#onExit?.(`unpack worker exited with code ${code}${this.#error ? `: ${describe(this.#error)}` : ""}`);
      onDeath(this);
    });
  }

  ref(busy: boolean): void {
    if (busy) this.#worker.ref();
    else this.#worker.unref();
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }

  #post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    this.#worker.postMessage(m, transfer);
  }

  /** The worker's outcome of the current job; `poke` runs on every message and on exit. */
  #outcome(poke: (m: FromWorker | null) => void): Promise<Outcome> {
    const outcome = new Promise<Outcome>((resolve, reject) => {
      this.#onMessage = (m) => {
        if (m.t === "done") resolve(m.result);
        else if (m.t === "fail") reject(new BerthError(m.code, m.message));
        poke(m);
      };
      this.#onExit = (why) => {
        reject(internal(why, this.#error));
        poke(null);
      };
    }).finally(() => {
      this.#onMessage = null;
      this.#onExit = null;
    });
    outcome.catch(() => {}); // observed by the caller; this only keeps it from counting as unhandled
    return outcome;
  }

  /**
   * Has the worker read, decompress and apply a blob file while it downloads: the daemon only
   * says how far the file is written, and "end" once its digest matched. Settles only once the
   * worker has stopped; a download failure or destroy() is thrown as is.
   */
  async runBlob(input: BlobInput, job: ApplyJob): Promise<Outcome> {
    const { blob } = input;
    if (input.stopped) throw input.stopped;
    const fh = await input.blob.openFile();
    let stop: Error | undefined;
    let sent = 0;
    let ended = false;
    const update = (): void => {
      if (stop || ended) return;
      if (blob.readable > sent) {
        sent = blob.readable;
        this.#post({ t: "avail", upTo: sent });
      }
      if (blob.state === "done") {
        ended = true;
        this.#post({ t: "end" });
      } else if (blob.state === "failed") {
        stop = blob.error ?? internal(`${input.what}: download failed`);
        this.#post({ t: "abort", reason: describe(stop) });
      }
    };
    const onStop = (err: Error): void => {
      if (stop) return;
      stop = err;
      this.#post({ t: "abort", reason: describe(err) });
    };
    const outcome = this.#outcome(() => {});
    try {
      this.#post({ t: "job", job, blob: { fd: fh.fd, compression: input.compression, maxBytes: input.maxBytes, what: input.what } });
      blob.on("progress", update);
      input.onStop(onStop);
      if (input.stopped) onStop(input.stopped);
      update();
      try {
        return await outcome;
      } catch (err) {
        throw stop ?? err;
      }
    } finally {
      blob.off("progress", update);
      input.onStop(undefined);
      // Only now: the worker reads by this fd number until it reports its outcome.
      await fh.close().catch(() => {});
    }
  }

  /** Streams input to the worker; settles only once the worker has stopped working on it. */
  async run(input: Readable, job: ApplyJob): Promise<Outcome> {
    let credits = WINDOW;
    let finished = false;
    let wake: (() => void) | null = null;
    const poke = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    const outcome = new Promise<Outcome>((resolve, reject) => {
      this.#onMessage = (m) => {
        if (m.t === "ack") credits++;
        else if (m.t === "done") resolve(m.result);
        else reject(new BerthError(m.code, m.message));
        poke();
      };
      this.#onExit = (why) => {
        reject(internal(why, this.#error));
        poke();
      };
    }).finally(() => {
      finished = true;
      this.#onMessage = null;
      this.#onExit = null;
    });
    outcome.catch(() => {}); // observed below; this only keeps it from counting as unhandled
    this.#post({ t: "job", job });
    try {
      for await (const chunk of input as AsyncIterable<Buffer | string>) {
        if (finished) break;
        const copy = new Uint8Array(Buffer.byteLength(chunk));
        if (typeof chunk === "string") copy.set(Buffer.from(chunk));
        else copy.set(chunk);
        this.#post({ t: "chunk", data: copy }, [copy.buffer]);
        credits--;
        while (credits <= 0 && !finished) await new Promise<void>((r) => (wake = r));
      }
      if (!finished) this.#post({ t: "end" });
    } catch (err) {
      if (!finished) this.#post({ t: "abort", reason: describe(err) });
      await outcome.catch(() => {});
      throw err instanceof BerthError ? err : internal(`reading the layer failed: ${describe(err)}`, err);
    }
    return outcome;
  }
}

export class UnpackPool {
  readonly #idle: UnpackWorker[] = [];
  readonly #waiting: ((w: UnpackWorker) => void)[] = [];
  #count = 0;

  constructor(
    readonly size: number,
    readonly idleMs: number,
  ) {}

  /** Applies the layer tar `input` (or the blob that holds it) in a worker. */
  async run(input: Readable | BlobInput, job: ApplyJob): Promise<Outcome> {
    const w = await this.#acquire();
    try {
      return await (input instanceof BlobInput ? w.runBlob(input, job) : w.run(input, job));
    } finally {
      this.#release(w);
    }
  }

  /** Stops every idle worker (busy ones stop when their job ends). */
  async close(): Promise<void> {
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((w) => w.terminate()));
  }

  #spawn(): UnpackWorker {
    this.#count++;
    return new UnpackWorker((dead) => {
      this.#count--;
      const i = this.#idle.indexOf(dead);
      if (i >= 0) this.#idle.splice(i, 1);
      if (dead.idleTimer) clearTimeout(dead.idleTimer);
      const waiter = this.#waiting.shift();
      if (waiter) waiter(this.#spawn());
    });
  }

  #acquire(): Promise<UnpackWorker> {
    const w = this.#idle.pop() ?? (this.#count < this.size ? this.#spawn() : null);
    if (w) return Promise.resolve(this.#busy(w));
    return new Promise((resolve) => this.#waiting.push((x) => resolve(this.#busy(x))));
  }

  #busy(w: UnpackWorker): UnpackWorker {
    if (w.idleTimer) clearTimeout(w.idleTimer);
    w.idleTimer = null;
    w.ref(true);
    return w;
  }

  #release(w: UnpackWorker): void {
    if (w.dead) return; // its exit handler already gave its place to a waiter
    const waiter = this.#waiting.shift();
    if (waiter) return waiter(w);
    w.ref(false);
    w.idleTimer = setTimeout(() => {
      const i = this.#idle.indexOf(w);
      if (i >= 0) this.#idle.splice(i, 1);
      void w.terminate().then(burstOver);
    }, this.idleMs);
    w.idleTimer.unref();
    this.#idle.push(w);
  }
}

let shared: UnpackPool | null = null;

/** The process's unpack pool: up to 4 workers (fewer on smaller machines), idle ones stop after 10 s (each holds ~10-20 MiB). */
export function unpackPool(): UnpackPool {
  shared ??= new UnpackPool(Math.max(1, Math.min(4, os.availableParallelism())), 10_000);
  return shared;
}
