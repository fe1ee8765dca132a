// Reads a blob from byte 0 while its download is still writing it (like `tail -f`), so unpack
// streams behind the network without a second copy; EOF comes only after the digest matched.
import fs, { type FileHandle } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { internal } from "../../errors.js";

const CHUNK = 256 * 1024;
// Buffers a pump cycles through: reads overlap the consumer without allocating per chunk.
const RING = 3;

/** What a follower needs from the download it follows. */
export interface Followed {
  readonly readable: number;
  readonly size: number;
  readonly state: "running" | "done" | "failed";
  readonly error: Error | undefined;
  readonly what: string;
  /** Settles once the file at the follower's path exists (or the download failed). */
  readonly opened: Promise<void>;
  on(event: "progress", fn: () => void): unknown;
  off(event: "progress", fn: () => void): unknown;
}

export class FollowReader extends Readable {
  private fh: FileHandle | undefined;
  private pos = 0;
  private reading = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly src: Followed,
    private readonly path: string,
    private readonly fallbackPath: string,
  ) {
    super({ highWaterMark: CHUNK });
  }

  override _construct(cb: (err?: Error | null) => void): void {
    this.src.opened.then(() => this.open(cb), (err: Error) => cb(err));
  }

  private open(cb: (err?: Error | null) => void): void {
    if (this.src.state === "failed") return cb(this.src.error ?? internal(`${this.src.what}: download failed`));
    fs.open(this.path, "r").then(
      (fh) => {
        this.fh = fh;
        cb();
      },
      (err: NodeJS.ErrnoException) => {
        // The download finished (renamed into place) between follow() and this open.
        if (err.code !== "ENOENT" || this.path === this.fallbackPath) return cb(err);
        fs.open(this.fallbackPath, "r").then(
          (fh) => {
            this.fh = fh;
            cb();
          },
          (e: Error) => cb(e),
        );
      },
    );
  }

  override _read(): void {
    if (this.reading) return;
    this.reading = true;
    this.pump().then(
      () => (this.reading = false),
      (err: unknown) => {
        this.reading = false;
        this.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.destroyed) return;
      const src = this.src;
      if (src.state === "failed") throw src.error ?? internal(`${src.what}: download failed`);
      const avail = src.readable - this.pos;
      if (avail > 0) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, avail));
        const { bytesRead } = await this.fh!.read(buf, 0, buf.length, this.pos);
        // The download may have started over (truncating the file) while this read waited: say so.
        if (bytesRead === 0) throw shortRead(src, this.pos);
        this.pos += bytesRead;
        if (!this.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead))) return;
        continue;
      }
      if (src.state === "done") {
        this.push(null);
        return;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          src.off("progress", wake);
          this.wake = undefined;
          resolve();
        };
        this.wake = wake;
        src.on("progress", wake);
      });
    }
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.wake?.();
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return cb(err);
    fh.close().then(
      () => cb(err),
      () => cb(err),
    );
  }
}

/**
 * Opens the file a download is writing (or, once it finished and renamed it, the final blob)
 * for reading; throws the download's error if it failed before the file existed.
 */
export async function openFollowed(src: Followed, path: string, fallbackPath: string): Promise<FileHandle> {
  await src.opened;
  if (src.state === "failed") throw src.error ?? internal(`${src.what}: download failed`);
  try {
    return await fs.open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || path === fallbackPath) throw err;
    return fs.open(fallbackPath, "r");
  }
}

/**
 * Like FollowReader, but writes into `dest` from a small ring of reused buffers (no allocation
 * per chunk). Only for a consumer that is done with a chunk when its write callback runs and
 * keeps no reference (a zlib stream; not a PassThrough). Ends `dest` after the verified EOF;
 * destroys it with the download's error. Stops quietly if `dest` is destroyed.
 */
export async function pumpFollow(src: Followed, path: string, fallbackPath: string, dest: Writable): Promise<void> {
  let fh: FileHandle | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const sleep = (): Promise<void> => new Promise<void>((r) => (wake = r));
  // A function, so TypeScript does not carry the narrowing of src.state across the awaits.
  const failed = (): boolean => src.state === "failed";
  src.on("progress", poke);
  dest.on("close", poke);
  try {
    fh = await openFollowed(src, path, fallbackPath);
    const free: Buffer[] = Array.from({ length: RING }, () => Buffer.allocUnsafe(CHUNK));
    let pos = 0;
    for (;;) {
      if (dest.destroyed) return;
      if (failed()) throw src.error ?? internal(`${src.what}: download failed`);
      const avail = src.readable - pos;
      if (avail <= 0) {
        if (src.state === "done") break;
        await sleep();
        continue;
      }
      const buf = free.pop();
      if (!buf) {
        await sleep();
        continue;
      }
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, avail), pos);
      if (bytesRead === 0) throw shortRead(src, pos);
      pos += bytesRead;
      if (dest.destroyed) return;
      dest.write(buf.subarray(0, bytesRead), () => {
        free.push(buf);
        poke();
      });
    }
    dest.end();
  } catch (err) {
    dest.destroy(err instanceof Error ? err : new Error(String(err)));
  } finally {
    src.off("progress", poke);
    dest.off("close", poke);
    await fh?.close().catch(() => {});
  }
}

/** A read that found no bytes where the download said some were: its own failure (a start over
 * from byte 0 truncates the file) when it has one, else a file shorter than written. */
function shortRead(src: Followed, pos: number): Error {
  if (src.state === "failed") return src.error ?? internal(`${src.what}: download failed`);
  return internal(`${src.what}: the partial file is shorter than written (${pos} bytes)`);
}
