// Follows the client-to-server bytes of an HTTP/2 connection and hands each complete header block
// (HEADERS + CONTINUATIONs) to the HPACK authority fixer; every other byte passes through as is.
import { HpackAuthorityFixer } from "./hpack-authority.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const FRAME_HEADER = 9;
const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

/**
 * What the server behind us accepts: grpc-js leaves Node's http2 settings alone, so the server
 * advertises nghttp2's defaults (SETTINGS_HEADER_TABLE_SIZE 4096, SETTINGS_MAX_FRAME_SIZE 16384),
 * and nghttp2 (>= 1.61) fails a connection whose header block has more than 8 CONTINUATIONs.
 * This filter sees the bytes before nghttp2 does, so it enforces the same bounds for itself: a
 * header block past them is not held or parsed but passed on at once for nghttp2 to refuse.
 */
export interface H2Limits {
  headerTableSize: number;
  maxFrameSize: number;
  maxContinuations: number;
}
export const SERVER_LIMITS: Readonly<H2Limits> = { headerTableSize: 4096, maxFrameSize: 16384, maxContinuations: 8 };

type State = "preface" | "header" | "payload" | "block" | "passthrough";

/**
 * Rewrites a client-to-server HTTP/2 byte stream chunk by chunk. Bytes come out as soon as they
 * are known not to need rewriting; only a header block still waiting for END_HEADERS is held.
 * Frame lengths and HPACK sizes never change. Anything malformed or over a limit switches it to
 * pass-through for good: it holds at most one header block within the limits, and walks each
 * block once.
 */
export class H2AuthorityRewriter {
  private readonly fixer: HpackAuthorityFixer;
  // A block's frames and bytes (frame headers included, so empty CONTINUATIONs count too).
  private readonly maxBlockFrames: number;
  private readonly maxBlockBytes: number;
  private state: State = "preface";
  private prefaceLeft = PREFACE.length;
  private readonly hdr = Buffer.alloc(FRAME_HEADER);
  private hdrFill = 0;
  private payloadLeft = 0;

  // The header block being held: output pieces from earlier chunks, and views (aliasing those
  // pieces and the current chunk) of its fragment bytes.
  private holding = false;
  private holdStream = 0;
  private holdStart = -1; // offset in the current chunk where holding began, or -1
  private held: Buffer[] = [];
  private heldLength = 0;
  private parts: Buffer[] = [];
  private blockBytes = 0;
  private blockFrames = 0;

  // The HEADERS/CONTINUATION frame being read.
  private frameLen = 0;
  private frameOff = 0;
  private padded = false;
  private fragStart = 0;
  private fragEnd = 0;
  private endHeaders = false;

  constructor(private readonly limits: Readonly<H2Limits> = SERVER_LIMITS) {
    this.fixer = new HpackAuthorityFixer(limits.headerTableSize);
    this.maxBlockFrames = 1 + limits.maxContinuations;
    this.maxBlockBytes = this.maxBlockFrames * (FRAME_HEADER + limits.maxFrameSize);
  }

  /** Bytes held back now (an unfinished header block); never more than the block limits. */
  get heldBytes(): number {
    return this.heldLength;
  }

  /** False once it passes everything through unchanged. */
  get rewriting(): boolean {
    return this.state !== "passthrough";
  }

  /** Takes one chunk (it may be modified in place) and returns the bytes ready to send on. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const n = chunk.length;
    let pos = 0;
    this.holdStart = this.holding ? 0 : -1;
    while (pos < n) {
      switch (this.state) {
        case "passthrough":
          pos = n;
          break;
        case "preface": {
          const k = Math.min(this.prefaceLeft, n - pos);
          const at = PREFACE.length - this.prefaceLeft;
          if (chunk.compare(PREFACE, at, at + k, pos, pos + k) !== 0) this.state = "passthrough";
          else if ((this.prefaceLeft -= k) === 0) this.state = "header";
          pos += k;
          break;
        }
        case "header": {
          const k = Math.min(FRAME_HEADER - this.hdrFill, n - pos);
          chunk.copy(this.hdr, this.hdrFill, pos, pos + k);
          this.hdrFill += k;
          pos += k;
          if (this.hdrFill === FRAME_HEADER) {
            this.hdrFill = 0;
            this.onFrameHeader(out, pos);
          }
          break;
        }
        case "payload": {
          const k = Math.min(this.payloadLeft, n - pos);
          pos += k;
          if ((this.payloadLeft -= k) === 0) this.state = "header";
          break;
        }
        case "block":
          pos = this.readBlockBytes(chunk, pos, out);
          break;
      }
    }
    // Nothing of this chunk has gone out yet: all before holdStart goes now, the rest is held.
    const cut = this.holding ? this.holdStart : n;
    if (cut > 0) out.push(cut === n ? chunk : chunk.subarray(0, cut));
    if (cut < n) {
      this.held.push(chunk.subarray(cut, n));
      this.heldLength += n - cut;
    }
    return out;
  }

  /** At end of input: whatever is still held, unchanged (the peer sent a cut block). */
  end(): Buffer[] {
    const rest = this.held;
    this.held = [];
    this.heldLength = 0;
    this.parts = [];
    this.holding = false;
    return rest;
  }

  // `pos` is the chunk offset just past this frame header.
  private onFrameHeader(out: Buffer[], pos: number): void {
    const h = this.hdr;
    const len = h.readUIntBE(0, 3);
    const type = h[3] ?? 0;
    const flags = h[4] ?? 0;
    const stream = h.readUInt32BE(5) & 0x7fffffff;
    if (this.holding && (type !== CONTINUATION || stream !== this.holdStream)) {
      return this.giveUp(out); // RFC 9113 §6.10: only CONTINUATION may follow; nghttp2 will fail it
    }
    if (!this.holding && type === CONTINUATION) return this.giveUp(out);
    if (!this.holding && type !== HEADERS) {
      this.payloadLeft = len;
      this.state = len > 0 ? "payload" : "header";
      return;
    }
    if (!this.holding) {
      this.holding = true;
      this.holdStream = stream;
      this.holdStart = pos;
      this.blockBytes = 0;
      this.blockFrames = 0;
    }
    this.blockBytes += FRAME_HEADER + len;
    this.blockFrames++;
    if (len > this.limits.maxFrameSize || this.blockFrames > this.maxBlockFrames || this.blockBytes > this.maxBlockBytes) {
      return this.giveUp(out); // nghttp2 fails the connection (FRAME_SIZE_ERROR, too many CONTINUATIONs)
    }
    this.frameLen = len;
    this.frameOff = 0;
    this.padded = type === HEADERS && (flags & PADDED) !== 0;
    this.fragStart = (this.padded ? 1 : 0) + (type === HEADERS && flags & PRIORITY ? 5 : 0);
    this.fragEnd = len;
    this.endHeaders = (flags & END_HEADERS) !== 0;
    if (this.fragStart > len) return this.giveUp(out);
    this.state = "block";
    if (len === 0) this.onBlockFrameEnd(out);
  }

  private readBlockBytes(chunk: Buffer, pos: number, out: Buffer[]): number {
    const k = Math.min(this.frameLen - this.frameOff, chunk.length - pos);
    if (this.padded && this.frameOff === 0) {
      this.fragEnd = this.frameLen - (chunk[pos] ?? 0);
      if (this.fragEnd < this.fragStart) {
        this.giveUp(out);
        return pos;
      }
    }
    const a = Math.max(this.frameOff, this.fragStart);
    const b = Math.min(this.frameOff + k, this.fragEnd);
    if (b > a) this.parts.push(chunk.subarray(pos + a - this.frameOff, pos + b - this.frameOff));
    this.frameOff += k;
    if (this.frameOff === this.frameLen) this.onBlockFrameEnd(out);
    return pos + k;
  }

  private onBlockFrameEnd(out: Buffer[]): void {
    this.state = "header";
    if (!this.endHeaders) return;
    const parts = this.parts;
    const block = parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts);
    if (this.fixer.fix(block) && parts.length > 1) {
      let off = 0;
      for (const p of parts) off += block.copy(p, 0, off, off + p.length);
    }
    this.release(out);
    // A malformed block or a table size over the limit: the server fails the connection, and
    // without a reliable table mirror there is nothing left to do here.
    if (!this.fixer.tracking) this.state = "passthrough";
  }

  private release(out: Buffer[]): void {
    out.push(...this.held);
    this.held = [];
    this.heldLength = 0;
    this.parts = [];
    this.holding = false;
    this.holdStart = -1;
  }

  private giveUp(out: Buffer[]): void {
    this.release(out);
    this.fixer.giveUp();
    this.state = "passthrough";
  }
}
