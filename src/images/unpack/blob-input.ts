// A layer input the unpack worker reads itself from the blob file the download is writing, so
// no compressed or decompressed byte crosses threads or is buffered in the daemon's main thread.
import type { FileHandle } from "node:fs/promises";
import type { Compression } from "./decompress.js";

/** A blob file that grows while it downloads; its bytes are trusted only once state is "done". */
export interface GrowingBlob {
  /** Bytes on disk from offset 0. */
  readonly readable: number;
  readonly state: "running" | "done" | "failed";
  readonly error: Error | undefined;
  on(event: "progress", fn: () => void): unknown;
  off(event: "progress", fn: () => void): unknown;
  /** The file, opened for reading; the caller closes it. */
  openFile(): Promise<FileHandle>;
}

/** A blob to decompress and apply in the worker; destroy() stops the apply with that error. */
export class BlobInput {
  #stopped: Error | undefined;
  #onStop: ((err: Error) => void) | undefined;

  constructor(
    readonly blob: GrowingBlob,
    readonly compression: Compression,
    /** Cap on decompressed bytes (bombs). */
    readonly maxBytes: number,
    /** Names the layer in errors. */
    readonly what: string,
  ) {}

  get stopped(): Error | undefined {
    return this.#stopped;
  }

  destroy(err?: Error): void {
    if (this.#stopped) return;
    this.#stopped = err ?? new Error(`${this.what}: apply stopped`);
    this.#onStop?.(this.#stopped);
  }

  /** Called by the runner: `fn` hears of a destroy(). */
  onStop(fn: ((err: Error) => void) | undefined): void {
    this.#onStop = fn;
  }
}
