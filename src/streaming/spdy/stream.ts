// One SPDY stream as a Node Duplex: readable side = the peer's DATA (ends at its FIN), writable
// side = our DATA (end() sends FIN). Destroying a half-open stream sends RST_STREAM CANCEL.
import { Duplex } from "node:stream";
import { RstStatus } from "./frames.js";
import type { SpdyHeaders } from "./header-block.js";

/** What a stream needs from its connection (implemented by SpdyConnection). */
export interface StreamOwner {
  sendReply(stream: SpdyStream, headers: SpdyHeaders): Promise<void>;
  sendData(stream: SpdyStream, data: Buffer, fin: boolean): Promise<void>;
  sendReset(stream: SpdyStream, status: number): void;
  /** The consumer read: the connection may resume the socket. */
  readable(stream: SpdyStream): void;
  /** The stream is closed both ways or reset: drop it from the table. */
  forget(stream: SpdyStream): void;
}

export class SpdyStream extends Duplex {
  /** Headers of the SYN_STREAM (a stream the peer opened) or of the SYN_REPLY (one we opened). */
  headers: SpdyHeaders;
  /** Set when the peer reset the stream, with its RST_STREAM status. */
  resetStatus: number | undefined;
  #replied = false;
  #remoteEnded = false;
  #localEnded = false;
  #reset = false;

  constructor(
    private readonly owner: StreamOwner,
    readonly id: number,
    headers: SpdyHeaders,
    highWaterMark: number,
  ) {
    super({ readableHighWaterMark: highWaterMark, writableHighWaterMark: highWaterMark, allowHalfOpen: true });
    this.headers = headers;
  }

  /** Header value by lowercase name ("" when absent). */
  header(name: string): string {
    return this.headers[name.toLowerCase()] ?? "";
  }

  /** Answers a peer-opened stream with SYN_REPLY; Go's client waits for it (30 s) before using the stream. */
  reply(headers: SpdyHeaders = {}): Promise<void> {
    if (this.#replied) return Promise.resolve();
    this.#replied = true;
    return this.owner.sendReply(this, headers);
  }

  /** Sends RST_STREAM and destroys the stream. */
  reset(status: number = RstStatus.CANCEL): void {
    if (!this.#reset && !this.destroyed) {
      this.#reset = true;
      this.owner.sendReset(this, status);
    }
    this.destroy();
  }

  get remoteEnded(): boolean {
    return this.#remoteEnded;
  }

  /** @internal Payload from the connection; false when the consumer is behind (the socket pauses). */
  deliver(chunk: Buffer, fin: boolean): boolean {
    if (this.#remoteEnded || this.destroyed) return true;
    let more = true;
    if (chunk.length > 0) more = this.push(chunk);
    if (fin) this.remoteEnd();
    return more;
  }

  /** @internal The peer's FIN (on DATA or on a SYN frame). */
  remoteEnd(): void {
    if (this.#remoteEnded) return;
    this.#remoteEnded = true;
    this.push(null);
    this.#maybeDone();
  }

  /** @internal The peer's RST_STREAM or the connection's end. */
  peerReset(status: number | undefined): void {
    this.#reset = true;
    this.resetStatus = status;
    this.destroy();
  }

  override _read(): void {
    this.owner.readable(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.owner.sendData(this, chunk, false).then(
      () => cb(),
      () => {
        // The connection is gone: the stream ends quietly rather than throwing at a writer without an error listener.
        this.destroy();
        cb();
      },
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.owner.sendData(this, Buffer.alloc(0), true).then(
      () => {
        this.#localEnded = true;
        this.#maybeDone();
        cb();
      },
      () => {
        this.destroy();
        cb();
      },
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.#reset && !(this.#localEnded && this.#remoteEnded)) {
      this.#reset = true;
      this.owner.sendReset(this, RstStatus.CANCEL);
    }
    this.owner.forget(this);
    cb(err);
  }

  #maybeDone(): void {
    if (this.#localEnded && this.#remoteEnded) this.owner.forget(this);
  }
}
