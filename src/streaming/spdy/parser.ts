// Incremental SPDY/3 frame parser: control frames come out whole (capped in size), DATA payloads
// come out in slices as bytes arrive, so a 16 MiB frame never sits in memory.
import { CONTROL_HEADER_LENGTH, FLAG_FIN, VERSION } from "./frames.js";

export type ParsedItem =
  | { kind: "control"; type: number; flags: number; payload: Buffer }
  /** A slice of a DATA frame; `fin` is set on the last slice of a frame carrying FLAG_FIN. */
  | { kind: "data"; streamId: number; chunk: Buffer; fin: boolean };

export class SpdyProtocolError extends Error {
  override name = "SpdyProtocolError";
}

export class FrameParser {
  #buf: Buffer = Buffer.alloc(0);
  /** Inside a DATA frame: its stream, flags and the payload bytes still to come. */
  #data: { streamId: number; flags: number; remaining: number } | undefined;

  constructor(private readonly maxControlFrame: number) {}

  append(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
  }

  /** Bytes received but not yet returned by next(). */
  get buffered(): number {
    return this.#buf.length;
  }

  /** The next complete item, or undefined until more bytes arrive. Throws SpdyProtocolError. */
  next(): ParsedItem | undefined {
    if (this.#data) return this.#nextData();
    if (this.#buf.length < CONTROL_HEADER_LENGTH) return undefined;
    const b = this.#buf;
    const word = b.readUInt32BE(0);
    const flags = b[4] ?? 0;
    const length = b.readUInt32BE(4) & 0xffffff;
    if (word & 0x80000000) {
      const version = (word >>> 16) & 0x7fff;
      const type = word & 0xffff;
      if (version !== VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version} (only 3 is spoken)`);
      if (length > this.maxControlFrame) throw new SpdyProtocolError(`control frame type ${type} of ${length} bytes exceeds the ${this.maxControlFrame}-byte limit`);
      if (b.length < CONTROL_HEADER_LENGTH + length) return undefined;
      const payload = Buffer.from(b.subarray(CONTROL_HEADER_LENGTH, CONTROL_HEADER_LENGTH + length));
      this.#buf = b.subarray(CONTROL_HEADER_LENGTH + length);
      return { kind: "control", type, flags, payload };
    }
    this.#buf = b.subarray(CONTROL_HEADER_LENGTH);
    this.#data = { streamId: word & 0x7fffffff, flags, remaining: length };
    return this.#nextData();
  }

  #nextData(): ParsedItem | undefined {
    const d = this.#data;
    if (!d) return undefined;
    if (d.remaining > 0 && this.#buf.length === 0) return undefined;
    const n = Math.min(d.remaining, this.#buf.length);
    const chunk = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    d.remaining -= n;
    const last = d.remaining === 0;
    if (last) this.#data = undefined;
    return { kind: "data", streamId: d.streamId, chunk, fin: last && (d.flags & FLAG_FIN) !== 0 };
  }
}
