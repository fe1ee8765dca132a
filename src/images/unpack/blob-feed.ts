// Inside an unpack worker: reads a layer blob by fd only as far as the daemon says it is written,
// decompresses it here from a ring of reused buffers under the compression-ratio guard, and
// yields the tar; EOF only after "end".
import fs from "node:fs";
import zlib from "node:zlib";
import { BerthError, describe, internal, invalid } from "../../errors.js";
import { checkRatio, formatBytes, overBudget } from "./budget.js";
import { LIMIT_KEYS, type ApplyLimits } from "./limits.js";
import type { BlobJob } from "./protocol.js";
import { FeedSignal } from "./feed-signal.js";
import { downloaded as reclaim } from "../content/reclaim.js";

// 256 KiB reads and zlib output chunks: fewer, larger writes into the tar parser.
const CHUNK = 256 * 1024;
// Read buffers a pump cycles through (reads overlap decompression without allocating).
const RING = 3;

export class BlobFeed {
  #upTo = 0;
  readonly #s = new FeedSignal();

  constructor(
    readonly job: BlobJob,
    readonly limits: Pick<ApplyLimits, "maxCompressionRatio" | "compressionRatioFloor">,
  ) {}

  avail(upTo: number): void {
    if (upTo > this.#upTo) this.#upTo = upTo;
    this.#s.poke();
  }
  end(): void {
    this.#s.end();
  }
  abort(reason: string): void {
    this.#s.abort(reason);
  }
  #read(buf: Buffer, pos: number, len: number): number {
    const n = fs.readSync(this.job.fd, buf, 0, len, pos);
    if (n === 0) throw internal(`${this.job.what}: the blob file is shorter than written (${pos} bytes)`);
    return n;
  }

  /** The uncompressed tar, in chunks the consumer may keep. */
  tar(): AsyncGenerator<Buffer> {
    return this.job.compression === "none" ? this.#raw() : this.#inflated();
  }

  async *#raw(): AsyncGenerator<Buffer> {
    let pos = 0;
    for (;;) {
      this.#s.check();
      const avail = this.#upTo - pos;
      if (avail <= 0) {
        if (this.#s.ended) return;
        await this.#s.sleep();
        continue;
      }
      // Fresh buffers: the tar parser may hold on to a chunk.
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, avail));
      const n = this.#read(buf, pos, buf.length);
      pos += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  }

  async *#inflated(): AsyncGenerator<Buffer> {
    const { compression, maxBytes, what } = this.job;
    const inflate = compression === "gzip" ? zlib.createGunzip({ chunkSize: CHUNK }) : zlib.createZstdDecompress({ chunkSize: CHUNK });
    const pumping = this.#pump(inflate).catch((err: unknown) => {
      inflate.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    const { maxCompressionRatio: ratio, compressionRatioFloor: floor } = this.limits;
    let total = 0;
    try {
      for await (const chunk of inflate as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) throw overBudget(what, `unpacks to more than ${formatBytes(maxBytes)}`, LIMIT_KEYS.maxBytes);
        // bytesWritten: compressed bytes the codec has consumed, so the ratio is exact as it streams.
        checkRatio(what, total, inflate.bytesWritten, ratio, floor);
        // zlib's output chunks are fresh 256 KiB buffers, dead once the tar writer is done with them.
        reclaim(chunk.length);
        yield chunk;
      }
    } catch (err) {
      if (err instanceof BerthError || !isCodecError(err)) throw err;
      throw invalid(`${what} is not valid ${compression} data: ${describe(err)}`);
    } finally {
      inflate.destroy();
      this.#s.poke();
      await pumping;
    }
  }

  /** Writes the file into the decompressor; a buffer is reused once zlib's write callback ran. */
  async #pump(inflate: zlib.Gunzip | zlib.ZstdDecompress): Promise<void> {
    const free: Buffer[] = Array.from({ length: RING }, () => Buffer.allocUnsafe(CHUNK));
    let pos = 0;
    for (;;) {
      if (inflate.destroyed) return;
      this.#s.check();
      const avail = this.#upTo - pos;
      if (avail <= 0) {
        if (this.#s.ended) break;
        await this.#s.sleep();
        continue;
      }
      const buf = free.pop();
      if (!buf) {
        await this.#s.sleep();
        continue;
      }
      const n = this.#read(buf, pos, Math.min(buf.length, avail));
      pos += n;
      inflate.write(buf.subarray(0, n), () => {
        free.push(buf);
        this.#s.poke();
      });
    }
    inflate.end();
  }
}

/** zlib ("Z_DATA_ERROR", "Z_BUF_ERROR") and zstd ("ZSTD_error_…") complaints about the data. */
function isCodecError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("Z_") || code.startsWith("ZSTD_"));
}
