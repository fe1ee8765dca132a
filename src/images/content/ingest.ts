// One blob download into the content store: hashed while it streams, written at explicit offsets
// to a .partial file, resumed with HTTP Range after a cut, renamed into place only once verified.
// Every pull sharing it brings its own source; a failing or silent source hands over to the next.
import { createHash, type Hash } from "node:crypto";
import { EventEmitter } from "node:events";
import { constants as C } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import { syncDir } from "../../util/durable.js";
import { dirname } from "node:path";
import { Writable, type Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { BerthError, Code, describe, internal } from "../../errors.js";
import { logger } from "../../util/log.js";
import { FollowReader, openFollowed, pumpFollow, type Followed } from "./follow.js";
import { IngestView } from "./view.js";
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
  /** Names the source in logs, e.g. the repository `docker.io/library/busybox`. */
  from?: string;
  /** Resumptions after a connection cut within one ingest (each must have made progress). */
  resumes?: number;
  /** With another source to turn to, this long without a byte makes the current one give way. */
  lagMs?: number;
  /** fsync the blob (and its directory after the rename): config images.sync. */
  sync?: boolean;
}

const READ_CHUNK = 1 << 20;
/**
 * A shared download whose source sends (almost) nothing for this long hands over to the source of
 * another pull that joined it (a hostile registry listing a popular digest must not hold honest
 * pulls for its whole stall timeout). Alone, a source has registry.stall_timeout.
 */
export const FAILOVER_LAG_MS = 5000;
/** What a shared download's source must send per FAILOVER_LAG_MS while another source waits. */
export const FAILOVER_MIN_BYTES = 64 * 1024;

interface Source {
  open: BlobOpener;
  from: string;
  failed: boolean;
}

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
  /**
   * Bumped when the bytes on disk are thrown away and downloaded again from byte 0 (a digest
   * mismatch after a resume or a change of source): readers of an older generation fail.
   */
  generation = 0;
  readonly done: Promise<void>;
  /** Settles once the .partial file exists (or the download failed before): followers open it then. */
  readonly opened: Promise<void>;
  private markOpened: () => void = () => {};
  private readonly opts: IngestOptions;
  private readonly abort = new AbortController();
  private holders = 0;
  private readonly sources: Source[];
  /** The source the download reads from now. */
  private active: Source;
  /** The bytes on disk came from more than one origin (an earlier attempt, or another source). */
  private mixed = false;
  private restartReason = "";

  private constructor(opts: IngestOptions, run: boolean) {
    super();
    this.setMaxListeners(0);
    this.opts = opts;
    this.digest = opts.digest;
    this.size = opts.size;
    this.what = opts.what;
    this.sources = [{ open: opts.open, from: opts.from ?? "the first source", failed: false }];
    this.active = this.sources[0]!;
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

  /**
   * Another pull joins this download with its own source, used if the current one fails or
   * goes silent (FAILOVER_LAG_MS). False when the download is over or aborting: start another.
   */
  addSource(open: BlobOpener, from: string): boolean {
    if (this.state !== "running" || this.abort.signal.aborted) return false;
    this.sources.push({ open, from, failed: false });
    return true;
  }

  /** The download as its readers see it now; a later restart from byte 0 fails it. */
  follow(): IngestView {
    return new IngestView(this, this.generation);
  }

  /** The error a reader of an older generation gets. */
  restartError(): BerthError {
    return new BerthError(Code.ABORTED, `${this.what}: the download started over from byte 0 (${this.restartReason}); read it again`);
  }

  /**
   * Resolves true once the download has started over since generation `gen` (what a reader of
   * `gen` saw may have been wrong bytes), false once it can no longer (it ended, or a digest
   * mismatch would be final: every byte came from the only source left).
   */
  restartedSince(gen: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        let answer: boolean | undefined;
        if (this.generation !== gen) answer = true;
        else if (this.state !== "running" || !(this.mixed || this.sources.some((s) => !s.failed && s !== this.active))) answer = false;
        if (answer === undefined) return;
        this.off("progress", check);
        resolve(answer);
      };
      this.on("progress", check);
      check();
    });
  }

  /** A pull's claim on this download; when every claim is released before the end, it aborts. */
  hold(): () => void {
    this.holders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holders === 0 && this.state === "running") {
        // On the next turn: a pull that joined during this one (addSource) takes its hold first.
        setImmediate(() => {
          if (this.holders === 0 && this.state === "running") this.abort.abort(new BerthError(Code.CANCELLED, `${this.what}: download cancelled`));
        });
      }
    };
  }

  /** The whole blob from byte 0, following the download; ends only once the digest matched. */
  stream(): Readable {
    return new FollowReader(this.follow(), this.state === "done" ? this.opts.final : this.opts.partial, this.opts.final);
  }

  /**
   * Writes the whole blob into `dest` as follow() would, from reused buffers; for consumers that
   * are done with a chunk at its write callback (decompressors).
   */
  feed(dest: Writable): void {
    void pumpFollow(this.follow(), this.state === "done" ? this.opts.final : this.opts.partial, this.opts.final, dest);
  }

  /**
   * The blob's file opened for reading while the download writes it (bytes up to `readable`
   * are there; the rest is trusted only once `state` is "done"). The caller closes it.
   */
  openFile(): Promise<FileHandle> {
    return this.follow().openFile();
  }

  /** openFile() for a view of this download. */
  openFileAt(view: Followed): Promise<FileHandle> {
    return openFollowed(view, this.state === "done" ? this.opts.final : this.opts.partial, this.opts.final);
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
      const pos = { at: (await fh.stat()).size, hash: createHash(alg) };
      if (pos.at > size) {
        await fh.truncate(0);
        pos.at = 0;
      }
      if (pos.at > 0) {
        await hashPrefix(fh, pos.at, pos.hash);
        this.resumedFrom = pos.at;
        this.mixed = true; // an earlier attempt's bytes, from whichever registry it used
        this.advance(pos.at);
        log.debug({ what, offset: pos.at, size }, "resuming a partial download");
      }
      for (;;) {
        await this.fill(fh, pos, alg);
        const got = `${alg}:${pos.hash.digest("hex")}`;
        if (got === this.digest) break;
        const mismatch = new BerthError(Code.DATA_LOSS, `${what}: downloaded content has digest ${got}, not ${this.digest}; discarded it`);
        // Bytes from several origins: any of them may be the bad part, so the source that sent
        // the tail gets one clean try from byte 0. From one source alone: that source lied.
        const reason = this.mixed
          ? `the resumed or handed-over bytes had digest ${got}`
          : `${this.active.from} sent content with digest ${got}`;
        let next: Source | undefined = this.active;
        if (!this.mixed) {
          this.active.failed = true;
          next = this.alternative();
        }
        if (!next) {
          await fh.close();
          closed = true;
          await fs.rm(partial, { force: true });
          throw mismatch;
        }
        log.warn({ what, from: next.from, err: mismatch.message }, "digest mismatch; downloading the blob again from byte 0");
        this.active = next;
        this.startOver(reason);
        await fh.truncate(0);
        pos.at = 0;
        pos.hash = createHash(alg);
      }
      if (this.opts.sync) await fh.sync();
      await fh.close();
      closed = true;
      await fs.rename(partial, final);
      if (this.opts.sync) await syncDir(dirname(final));
    } finally {
      if (!closed) await fh.close().catch(() => {});
    }
  }

  /** The first source not yet failed other than the active one. */
  private alternative(): Source | undefined {
    return this.sources.find((s) => !s.failed && s !== this.active);
  }

  /** Readers of what is on disk now fail: it is about to be rewritten from byte 0. */
  private startOver(reason: string): void {
    this.restartReason = reason;
    this.generation++;
    this.readable = 0;
    this.mixed = false;
    this.emit("progress");
  }

  /**
   * Downloads from `pos.at` to the end: resumes a cut source with Range, and hands over to
   * another pull's source when the active one fails or sends nothing for lagMs while one waits.
   */
  private async fill(fh: FileHandle, pos: { at: number; hash: Hash }, alg: string): Promise<void> {
    const { size, what } = this.opts;
    const resumes = this.opts.resumes ?? 3;
    const lagMs = this.opts.lagMs ?? FAILOVER_LAG_MS;
    let resumesLeft = resumes;
    while (pos.at < size) {
      const main = this.abort.signal;
      main.throwIfAborted();
      const src = this.active;
      const attempt = new AbortController();
      const onMain = (): void => attempt.abort(main.reason);
      main.addEventListener("abort", onMain, { once: true });
      // A source lags when it has not sent FAILOVER_MIN_BYTES (or the rest) for lagMs: one
      // dripping a byte now and then holds the others as surely as one sending nothing.
      let last = Date.now();
      let mark = pos.at;
      const lag = setInterval(() => {
        if (Date.now() - last < lagMs || !this.alternative()) return;
        attempt.abort(new BerthError(Code.DEADLINE_EXCEEDED,
          `${what}: ${src.from} sent less than ${FAILOVER_MIN_BYTES} bytes in ${lagMs} ms while another pull's source was waiting`));
      }, Math.max(20, lagMs / 5));
      const before = pos.at;
      try {
        const got = await src.open(pos.at, attempt.signal);
        if (got.offset !== pos.at) {
          // The server ignored Range: start over (the same bytes are rewritten in place). Bytes
          // from another origin may differ: their readers must start over too.
          if (this.mixed) this.startOver(`${src.from} ignored a Range request`);
          pos.hash = createHash(alg);
          pos.at = got.offset;
        }
        mark = pos.at;
        const sink = new BlobSink(fh, pos.hash, pos.at, size, what, (p) => {
          if (p - mark >= FAILOVER_MIN_BYTES || p === size) {
            mark = p;
            last = Date.now();
          }
          this.advance(p);
        });
        const onAbort = (): void => {
          const r: unknown = attempt.signal.reason;
          got.stream.destroy(r instanceof Error ? r : new Error(String(r)));
        };
        attempt.signal.addEventListener("abort", onAbort, { once: true });
        try {
          const cut = await copyInto(got.stream, sink);
          pos.at = sink.position;
          if (cut) {
            if (attempt.signal.aborted) throw attempt.signal.reason;
            const resumable = cut instanceof BerthError && cut.code === Code.UNAVAILABLE;
            if (!resumable || pos.at === before || resumesLeft-- <= 0) throw cut;
            log.info({ what, offset: pos.at, size, err: describe(cut) }, "download cut; resuming with Range");
            this.emit("resume", pos.at);
            continue;
          }
        } finally {
          attempt.signal.removeEventListener("abort", onAbort);
        }
        if (pos.at < size) {
          throw new BerthError(Code.DATA_LOSS, `${what}: the registry sent ${pos.at} bytes but the manifest says ${size}; the blob is truncated`);
        }
      } catch (err) {
        if (main.aborted) throw main.reason;
        const e = attempt.signal.aborted ? attempt.signal.reason : err;
        const next = this.alternative();
        if (!next) throw e;
        src.failed = true;
        log.warn({ what, from: src.from, to: next.from, offset: pos.at, err: describe(e) }, "download source failed; continuing from another pull's source");
        if (pos.at > 0) this.mixed = true;
        this.active = next;
        resumesLeft = resumes;
        this.emit("resume", pos.at);
      } finally {
        clearInterval(lag);
        main.removeEventListener("abort", onMain);
      }
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
    super({ highWaterMark: 256 * 1024 });
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
