// One blob download into the content store: hashed while it streams, written at explicit offsets
// to a .partial file, resumed with HTTP Range after a cut, renamed into place only once verified.
import { createHash, type Hash } from "node:crypto";
import { EventEmitter } from "node:events";
import { constants as C } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { Writable, type Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { BerthError, Code, describe, internal } from "../../errors.js";
import { logger } from "../../util/log.js";
import { FollowReader, openFollowed, pumpFollow } from "./follow.js";
import { downloaded } from "./reclaim.js";

const log = logger("content");

export interface BlobOpen {
  stream: Readable;
  /** Where the stream starts in the blob (0 when the server ignored Range). */
  offset: number;
}

/** Opens the blob from `offset` (a Range request when > 0). */
export type BlobOpener = (offset: number, signal: AbortSignal) => Promise<BlobOpen>;

export interface IngestOptions {
  digest: string;
  size: number;
  /** Names the blob in errors, e.g. `layer sha256:… of docker.io/library/busybox`. */
  what: string;
  partial: string;
  final: string;
  open: BlobOpener;
  /** Resumptions after a connection cut within one ingest (each must have made progress). */
  resumes?: number;
}

const READ_CHUNK = 1 << 20;

/**
 * A download in progress (or finished). Followers read the bytes as they land on disk, so the
 * layer applier can start before the blob is complete; they see EOF only after verification.
 * Several pulls share one Ingest; it aborts when the last one lets go (the .partial stays).
 */
export class Ingest extends EventEmitter {
  readonly digest: string;
  readonly size: number;
  readonly what: string;
  /** Bytes on disk from offset 0: followers may read up to here. */
  readable = 0;
  /** Set when an earlier attempt's .partial was reused: the offset the download resumed from. */
  resumedFrom = 0;
  state: "running" | "done" | "failed" = "running";
  error: BerthError | undefined;
  readonly done: Promise<void>;
  /** Settles once the .partial file exists (or the download failed before): followers open it then. */
  readonly opened: Promise<void>;
  private markOpened: () => void = () => {};
  private readonly opts: IngestOptions;
  private readonly abort = new AbortController();
  private holders = 0;

  private constructor(opts: IngestOptions, run: boolean) {
    super();
    this.setMaxListeners(0);
    this.opts = opts;
    this.digest = opts.digest;
    this.size = opts.size;
    this.what = opts.what;
    this.opened = new Promise<void>((resolve) => (this.markOpened = resolve));
    if (run) {
      this.done = this.run().then(
        () => this.settle("done"),
        (err: unknown) => {
          this.error = err instanceof BerthError ? err : internal(`${this.what}: ${describe(err)}`, err);
          this.settle("failed");
          throw this.error;
        },
      );
      this.done.catch(() => {}); // observed by whoever awaits it
    } else {
      this.readable = opts.size;
      this.state = "done";
      this.done = Promise.resolve();
      this.markOpened();
    }
  }

  static start(opts: IngestOptions): Ingest {
    return new Ingest(opts, true);
  }

  /** An ingest for a blob already in the store. */
  static present(digest: string, size: number, final: string, what: string): Ingest {
    return new Ingest({ digest, size, what, final, partial: final, open: () => Promise.reject(new Error("present")) }, false);
  }

  /** A pull's claim on this download; when every claim is released before the end, it aborts. */
  hold(): () => void {
    this.holders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holders === 0 && this.state === "running") {
        this.abort.abort(new BerthError(Code.CANCELLED, `${this.what}: download cancelled`));
      }
    };
  }

  /** The whole blob from byte 0, following the download; ends only once the digest matched. */
  stream(): Readable {
    return new FollowReader(this, this.state === "done" ? this.opts.final : this.opts.partial, this.opts.final);
  }

  /**
   * Writes the whole blob into `dest` as follow() would, from reused buffers; for consumers that
   * are done with a chunk at its write callback (decompressors).
   */
  feed(dest: Writable): void {
    void pumpFollow(this, this.state === "done" ? this.opts.final : this.opts.partial, this.opts.final, dest);
  }

  /**
   * The blob's file opened for reading while the download writes it (bytes up to `readable`
   * are there; the rest is trusted only once `state` is "done"). The caller closes it.
   */
  openFile(): Promise<FileHandle> {
    return openFollowed(this, this.state === "done" ? this.opts.final : this.opts.partial, this.opts.final);
  }

  private settle(state: "done" | "failed"): void {
    this.state = state;
    this.markOpened();
    this.emit("progress");
    this.emit(state);
  }

  private advance(upTo: number): void {
    if (upTo > this.readable) this.readable = upTo;
    this.emit("progress");
  }

  private async run(): Promise<void> {
    const { partial, final, size, what } = this.opts;
    const alg = this.digest.slice(0, this.digest.indexOf(":"));
    await fs.mkdir(dirname(partial), { recursive: true, mode: 0o700 });
    await fs.mkdir(dirname(final), { recursive: true, mode: 0o700 });
    const fh = await fs.open(partial, C.O_RDWR | C.O_CREAT | C.O_NOFOLLOW, 0o600);
    this.markOpened();
    let closed = false;
    try {
      let hash = createHash(alg);
      let onDisk = (await fh.stat()).size;
      if (onDisk > size) {
        await fh.truncate(0);
        onDisk = 0;
      }
      if (onDisk > 0) {
        await hashPrefix(fh, onDisk, hash);
        this.resumedFrom = onDisk;
        this.advance(onDisk);
        log.debug({ what, offset: onDisk, size }, "resuming a partial download");
      }
      let pos = onDisk;
      let resumesLeft = this.opts.resumes ?? 3;
      while (pos < size) {
        const signal = this.abort.signal;
        signal.throwIfAborted();
        const got = await this.opts.open(pos, signal);
        if (got.offset !== pos) {
          // The server ignored Range: start over (the same bytes are rewritten in place).
          hash = createHash(alg);
          pos = got.offset;
        }
        const sink = new BlobSink(fh, hash, pos, size, what, (p) => this.advance(p));
        const onAbort = (): void => {
          got.stream.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        const before = pos;
        try {
          const cut = await copyInto(got.stream, sink);
          pos = sink.position;
          if (cut) {
            if (signal.aborted) throw signal.reason;
            const resumable = cut instanceof BerthError && cut.code === Code.UNAVAILABLE;
            if (!resumable || pos === before || resumesLeft-- <= 0) throw cut;
            log.info({ what, offset: pos, size, err: describe(cut) }, "download cut; resuming with Range");
            this.emit("resume", pos);
            continue;
          }
        } finally {
          signal.removeEventListener("abort", onAbort);
        }
        pos = sink.position;
        if (pos < size) {
          throw new BerthError(Code.DATA_LOSS, `${what}: the registry sent ${pos} bytes but the manifest says ${size}; the blob is truncated`);
        }
      }
      const got = `${alg}:${hash.digest("hex")}`;
      if (got !== this.digest) {
        await fh.close();
        closed = true;
        await fs.rm(partial, { force: true });
        throw new BerthError(Code.DATA_LOSS, `${what}: downloaded content has digest ${got}, not ${this.digest}; discarded it`);
      }
      await fh.close();
      closed = true;
      await fs.rename(partial, final);
    } finally {
      if (!closed) await fh.close().catch(() => {});
    }
  }
}

/**
 * Copies a response body into the sink. A failing body is not an error here: what arrived
 * before the failure is still written (so a resume starts after it) and the failure returned.
 * The sink's own errors (overflow, disk) are thrown.
 */
async function copyInto(body: Readable, sink: BlobSink): Promise<unknown> {
  let cut: unknown;
  try {
    for await (const chunk of body) {
      if (sink.errored) throw sink.errored;
      if (!sink.write(chunk)) await drainedOrClosed(sink);
    }
  } catch (err) {
    if (sink.errored) throw sink.errored;
    cut = err;
  }
  sink.end();
  await finished(sink);
  return cut;
}

function drainedOrClosed(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      w.off("drain", done);
      w.off("close", done);
      resolve();
    };
    w.on("drain", done);
    w.on("close", done);
  });
}

/** Reads back the first `n` bytes of an earlier attempt into the hash. */
async function hashPrefix(fh: FileHandle, n: number, hash: Hash): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, n));
  let pos = 0;
  while (pos < n) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, n - pos), pos);
    if (bytesRead === 0) throw internal(`partial download shrank while reading it back (${pos} of ${n} bytes)`);
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}

/**
 * Hashes and writes chunks at increasing offsets. Writable batches what arrives while a write
 * is in flight into one writev, so small network reads become large writes.
 */
class BlobSink extends Writable {
  position: number;
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly fh: FileHandle,
    private readonly hash: Hash,
    start: number,
    private readonly size: number,
    private readonly what: string,
    private readonly onWritten: (pos: number) => void,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.position = start;
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    let n = 0;
    for (const b of bufs) n += b.length;
    if (this.position + n > this.size) {
      cb(new BerthError(Code.DATA_LOSS, `${this.what}: the registry sent more than the ${this.size} bytes the manifest says; refusing it`));
      return;
    }
    for (const b of bufs) this.hash.update(b);
    this.inflight = this.writeAll(bufs, n).then(
      () => cb(),
      (err: unknown) => cb(internal(`${this.what}: writing the blob failed: ${describe(err)}`, err)),
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  private async writeAll(bufs: Buffer[], n: number): Promise<void> {
    let at = this.position;
    let rest = bufs;
    let left = n;
    while (left > 0) {
      const { bytesWritten } = await this.fh.writev(rest, at);
      at += bytesWritten;
      left -= bytesWritten;
      if (left > 0) rest = skip(rest, bytesWritten);
    }
    this.position = at;
    this.onWritten(at);
    downloaded(n);
  }

  /** Resolves once no write is in flight (after an error, before trusting `position`). */
  settled(): Promise<void> {
    return this.inflight.catch(() => {});
  }
}

function skip(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}
