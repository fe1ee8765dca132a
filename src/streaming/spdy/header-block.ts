// SPDY/3 header blocks: the name/value wire layout, and the per-connection zlib contexts (one
// deflate out, one inflate in, SPDY/3 dictionary, Z_SYNC_FLUSH per block) with output caps.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from "node:zlib";
import { SPDY3_DICTIONARY } from "./dictionary.js";

/** Lowercase names; several values of one name are joined by NUL, as on the wire. */
export type SpdyHeaders = Record<string, string>;

export class HeaderBlockError extends Error {
  override name = "HeaderBlockError";
}

/** Serializes headers (names lowercased, as Go's reader demands) to the uncompressed block. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), "utf8");
    const v = Buffer.from(value, "utf8");
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed block; throws HeaderBlockError on any length that runs past the end. */
export function decodeHeaderBlock(block: Buffer, maxPairs: number): SpdyHeaders {
  let off = 0;
  const need = (n: number): void => {
    if (off + n > block.length) throw new HeaderBlockError(`header block truncated at byte ${off} (needs ${n} more, has ${block.length - off})`);
  };
  need(4);
  const count = block.readUInt32BE(off);
  off += 4;
  if (count > maxPairs) throw new HeaderBlockError(`header block has ${count} pairs; at most ${maxPairs} are accepted`);
  const out: SpdyHeaders = Object.create(null) as SpdyHeaders;
  for (let i = 0; i < count; i++) {
    need(4);
    const nl = block.readUInt32BE(off);
    off += 4;
    need(nl);
    const name = block.toString("utf8", off, off + nl);
    off += nl;
    need(4);
    const vl = block.readUInt32BE(off);
    off += 4;
    need(vl);
    const value = block.toString("utf8", off, off + vl);
    off += vl;
    if (name === "") throw new HeaderBlockError("header block has an empty name");
    out[name.toLowerCase()] = value;
  }
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * One zlib context used block by block. Node's zlib streams are asynchronous, so blocks are
 * queued: each one's output is exactly what the context emits up to its Z_SYNC_FLUSH.
 */
class ZlibContext {
  #queue: Promise<unknown> = Promise.resolve();
  #broken: Error | undefined;

  constructor(
    private readonly z: Deflate | Inflate,
    private readonly maxOutput: number,
    private readonly what: string,
  ) {
    z.on("error", (e: Error) => {
      this.#broken ??= e;
    });
  }

  run(input: Buffer): Promise<Buffer> {
    const p = this.#queue.then(() => this.#runOne(input));
    this.#queue = p.catch(() => undefined);
    return p;
  }

  #runOne(input: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.#broken) return reject(new HeaderBlockError(`${this.what}: ${this.#broken.message}`));
      const chunks: Buffer[] = [];
      let len = 0;
      let failed = false;
      const onData = (d: Buffer): void => {
        len += d.length;
        if (len > this.maxOutput) {
          if (!failed) {
            failed = true;
            this.#broken = new HeaderBlockError(`${this.what}: output exceeds ${this.maxOutput} bytes`);
            cleanup();
            this.z.destroy();
            reject(this.#broken);
          }
          return;
        }
        chunks.push(d);
      };
      const onError = (e: Error): void => {
        if (failed) return;
        failed = true;
        cleanup();
        reject(new HeaderBlockError(`${this.what}: ${e.message}`));
      };
      const cleanup = (): void => {
        this.z.off("data", onData);
        this.z.off("error", onError);
      };
      this.z.on("data", onData);
      this.z.on("error", onError);
      this.z.write(input);
      this.z.flush(constants.Z_SYNC_FLUSH, () => {
        if (failed) return;
        cleanup();
        if (this.#broken) return reject(new HeaderBlockError(`${this.what}: ${this.#broken.message}`));
        resolve(Buffer.concat(chunks, len));
      });
    });
  }

  close(): void {
    this.z.destroy();
  }
}

/** A connection's two header contexts. Blocks must be compressed in the order they go on the wire. */
export class HeaderCodec {
  readonly #deflate: ZlibContext;
  readonly #inflate: ZlibContext;

  constructor(private readonly limits: { maxHeaderBytes: number; maxHeaderPairs: number }) {
    // Level 9 as Go's framer; the dictionary on deflate sets FDICT, which Go's reader requires.
    this.#deflate = new ZlibContext(createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 }), 16 * 1024 * 1024, "header compression");
    this.#inflate = new ZlibContext(createInflate({ dictionary: SPDY3_DICTIONARY }), limits.maxHeaderBytes, "header block");
  }

  compress(headers: SpdyHeaders): Promise<Buffer> {
    return this.#deflate.run(encodeHeaderBlock(headers));
  }

  async decompress(block: Buffer): Promise<SpdyHeaders> {
    return decodeHeaderBlock(await this.#inflate.run(block), this.limits.maxHeaderPairs);
  }

  close(): void {
    this.#deflate.close();
    this.#inflate.close();
  }
}
