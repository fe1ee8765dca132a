// A SPDY/3.1 connection over an upgraded socket, as server (kubelet/crictl open the streams) or
// as client (berth's CLI and tests): a stream table with one Duplex per stream, Go-compatible.
//
// API (for the streaming handlers and the CLI):
//   const conn = new SpdyConnection(socket, { server: true, head });  // head: bytes read past the HTTP 101
//   conn.on("stream", (s: SpdyStream) => { s.header("streamtype"); void s.reply(); s.pipe(...); s.write(...); s.end(); });
//   const s = await conn.openStream({ streamtype: "error" });           // client: SYN_STREAM, resolves at SYN_REPLY
//   s.reset(RstStatus.CANCEL);                                         // RST_STREAM + destroy
//   await conn.ping();                                                 // round trip, ms
//   conn.close();      // GOAWAY(OK) after queued frames, then end the socket; "close" fires once everything is gone
//   conn.destroy();    // now: socket destroyed, every stream destroyed (no "error" events anywhere)
// Streams never emit "error": a peer RST or a dead connection destroys them quietly (resetStatus tells
// which). No flow-control windows (spdystream has none): back-pressure is the socket's write() on the
// way out, and on the way in a stream whose consumer is behind pauses the whole socket (as spdystream
// blocks its frame reader), so buffering stays at one high-water mark per stream.
import { EventEmitter } from "node:events";
import { finished, type Duplex } from "node:stream";
import {
  FLAG_FIN,
  FrameType,
  GoAwayStatus,
  MAX_STREAM_ID,
  RstStatus,
  dataFrame,
  goAwayFrame,
  pingFrame,
  rstStreamFrame,
  synReplyFrame,
  synStreamFrame,
} from "./frames.js";
import { HeaderCodec, type SpdyHeaders } from "./header-block.js";
import { FrameParser, SpdyProtocolError, type ParsedItem } from "./parser.js";
import { SpdyStream, type StreamOwner } from "./stream.js";

export interface SpdyLimits {
  /** Largest control frame accepted (SYN_STREAM with its compressed header block, SETTINGS...). */
  maxControlFrame: number;
  /** Largest header block after inflation. */
  maxHeaderBytes: number;
  maxHeaderPairs: number;
  /** Streams open at once; more are refused with RST_STREAM REFUSED_STREAM. */
  maxStreams: number;
  /** Per-stream buffer (each direction) before back-pressure applies. */
  streamHighWaterMark: number;
  /** Largest DATA frame we write; bigger writes are split. */
  maxDataFrame: number;
  /** Unread received bytes held before the socket is paused. */
  maxParserBuffer: number;
}

export const DEFAULT_LIMITS: SpdyLimits = {
  maxControlFrame: 64 * 1024,
  maxHeaderBytes: 64 * 1024,
  maxHeaderPairs: 64,
  maxStreams: 256,
  streamHighWaterMark: 256 * 1024,
  maxDataFrame: 64 * 1024,
  maxParserBuffer: 1024 * 1024,
};

export interface SpdyConnectionOptions {
  server: boolean;
  /** Bytes that arrived with the HTTP upgrade, before the socket was handed over. */
  head?: Buffer | undefined;
  limits?: Partial<SpdyLimits> | undefined;
  /** No frame either way for this long: GOAWAY and close. 0 or absent: never. */
  idleTimeoutMs?: number | undefined;
  /** How long openStream waits for SYN_REPLY (Go's client: 30 s). */
  replyTimeoutMs?: number | undefined;
}

export class SpdyConnectionClosedError extends Error {
  override name = "SpdyConnectionClosedError";
}

interface ConnectionEvents {
  stream: [SpdyStream];
  goaway: [lastGoodStreamId: number, status: number];
  /** A protocol violation by the peer, just before the connection is torn down. */
  protocolError: [Error];
  close: [];
}

export class SpdyConnection extends EventEmitter<ConnectionEvents> implements StreamOwner {
  readonly limits: SpdyLimits;
  readonly #socket: Duplex;
  readonly #server: boolean;
  readonly #codec: HeaderCodec;
  readonly #parser: FrameParser;
  readonly #streams = new Map<number, SpdyStream>();
  readonly #awaitingReply = new Map<number, { resolve: (s: SpdyStream) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly #pings = new Map<number, { start: number; resolve: (ms: number) => void; reject: (e: Error) => void }>();
  /** Streams whose consumer is behind: while any is here the socket stays paused. */
  readonly #full = new Set<SpdyStream>();
  #out: Promise<void> = Promise.resolve();
  #nextStreamId: number;
  #nextPingId: number;
  #lastPeerStreamId = 0;
  #pumping = false;
  /** A wake-up (a stream read again, more bytes) that came while the pump was running. */
  #pumpAgain = false;
  #socketGone = false;
  #closing = false;
  #destroyed = false;
  #peerGoneAway = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastActivity = Date.now();
  readonly #idleTimeoutMs: number;
  readonly #replyTimeoutMs: number;

  constructor(socket: Duplex, opts: SpdyConnectionOptions) {
    super();
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.#socket = socket;
    this.#server = opts.server;
    this.#nextStreamId = opts.server ? 2 : 1;
    this.#nextPingId = opts.server ? 2 : 1;
    this.#codec = new HeaderCodec(this.limits);
    this.#parser = new FrameParser(this.limits.maxControlFrame);
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    this.#replyTimeoutMs = opts.replyTimeoutMs ?? 30_000;
    if ("setNoDelay" in socket && typeof socket.setNoDelay === "function") (socket.setNoDelay as (v: boolean) => void)(true);
    socket.on("data", this.#onSocketData);
    socket.on("end", this.#onSocketGone);
    socket.on("close", this.#onSocketGone);
    socket.on("error", this.#onSocketGone);
    if (this.#idleTimeoutMs > 0) this.#armIdle();
    if (opts.head && opts.head.length > 0) this.#onSocketData(opts.head);
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Streams currently in the table. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Opens a stream (SYN_STREAM) and resolves once the peer answers with SYN_REPLY. */
  openStream(headers: SpdyHeaders, opts: { fin?: boolean } = {}): Promise<SpdyStream> {
    if (this.#destroyed || this.#closing || this.#peerGoneAway) return Promise.reject(new SpdyConnectionClosedError("SPDY connection is closed"));
    if (this.#nextStreamId > MAX_STREAM_ID) return Promise.reject(new SpdyConnectionClosedError("SPDY stream ids exhausted"));
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const stream = new SpdyStream(this, id, {}, this.limits.streamHighWaterMark);
    this.#streams.set(id, stream);
    return new Promise<SpdyStream>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#awaitingReply.delete(id);
        stream.reset(RstStatus.CANCEL);
        reject(new SpdyConnectionClosedError(`no SYN_REPLY for stream ${id} within ${this.#replyTimeoutMs} ms`));
      }, this.#replyTimeoutMs);
      this.#awaitingReply.set(id, { resolve, reject, timer });
      this.#enqueue(async () => synStreamFrame(id, await this.#codec.compress(headers), { fin: opts.fin ?? false })).catch((e: unknown) => {
        this.#settleOpen(id, e instanceof Error ? e : new Error(String(e)));
      });
      if (opts.fin) void stream.end();
    });
  }

  /** Sends PING and resolves with the round trip in ms. */
  ping(): Promise<number> {
    if (this.#destroyed) return Promise.reject(new SpdyConnectionClosedError("SPDY connection is closed"));
    const id = this.#nextPingId;
    this.#nextPingId = (this.#nextPingId + 2) >>> 0;
    return new Promise((resolve, reject) => {
      this.#pings.set(id, { start: performance.now(), resolve, reject });
      this.#enqueue(() => pingFrame(id)).catch(reject);
    });
  }

  /** GOAWAY(OK) after everything queued, then ends the socket; streams still open are destroyed when it closes. */
  close(): void {
    if (this.#closing || this.#destroyed) return;
    this.#closing = true;
    // A stream already ended sends its FIN from _final, after its last write: wait for those FINs.
    const ending = [...this.#streams.values()].filter((s) => s.writableEnded && !s.writableFinished && !s.destroyed);
    void Promise.all(ending.map((s) => new Promise<void>((resolve) => finished(s, { readable: false }, () => resolve()))))
      .then(() => this.#enqueue(() => goAwayFrame(this.#lastPeerStreamId, GoAwayStatus.OK)))
      .then(() => this.#socket.end())
      .catch(() => this.destroy());
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    clearTimeout(this.#idleTimer);
    this.#socket.off("data", this.#onSocketData);
    this.#socket.destroy();
    this.#drainOnClose();
    this.#codec.close();
    for (const [id] of this.#awaitingReply) this.#settleOpen(id, new SpdyConnectionClosedError("SPDY connection closed before SYN_REPLY"));
    for (const p of this.#pings.values()) p.reject(new SpdyConnectionClosedError("SPDY connection closed"));
    this.#pings.clear();
    // A stream the peer finished keeps its unread data for its consumer; the others are cut.
    for (const s of [...this.#streams.values()]) if (!s.remoteEnded) s.peerReset(undefined);
    this.#streams.clear();
    this.#full.clear();
    this.emit("close");
  }

  // ---- StreamOwner (called by SpdyStream) ----

  sendReply(stream: SpdyStream, headers: SpdyHeaders): Promise<void> {
    return this.#enqueue(async () => synReplyFrame(stream.id, await this.#codec.compress(headers)));
  }

  sendData(stream: SpdyStream, data: Buffer, fin: boolean): Promise<void> {
    const max = this.limits.maxDataFrame;
    if (data.length <= max) return this.#enqueue(() => dataFrame(stream.id, data, fin));
    let last: Promise<void> = Promise.resolve();
    for (let off = 0; off < data.length; off += max) {
      const end = Math.min(off + max, data.length);
      const slice = data.subarray(off, end);
      last = this.#enqueue(() => dataFrame(stream.id, slice, fin && end === data.length));
    }
    return last;
  }

  sendReset(stream: SpdyStream, status: number): void {
    if (this.#destroyed) return;
    this.#enqueue(() => rstStreamFrame(stream.id, status)).catch(() => undefined);
  }

  readable(stream: SpdyStream): void {
    if (this.#full.delete(stream) && this.#full.size === 0) this.#pump();
  }

  forget(stream: SpdyStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    if (this.#full.delete(stream) && this.#full.size === 0) this.#pump();
  }

  // ---- output ----

  /** Frames go out in call order (header compression must match wire order); resolves once the socket took it. */
  #enqueue(build: () => Buffer | Promise<Buffer>): Promise<void> {
    const p = this.#out.then(async () => {
      if (this.#destroyed) throw new SpdyConnectionClosedError("SPDY connection is closed");
      const frame = await build();
      if (this.#destroyed) throw new SpdyConnectionClosedError("SPDY connection is closed");
      this.#lastActivity = Date.now();
      if (!this.#socket.write(frame)) await this.#drained();
    });
    this.#out = p.catch(() => undefined);
    return p;
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off("drain", done);
        this.#socket.off("close", done);
        resolve();
      };
      this.#socket.on("drain", done);
      this.#socket.on("close", done);
    });
  }

  // ---- input ----

  readonly #onSocketData = (chunk: Buffer): void => {
    this.#lastActivity = Date.now();
    this.#parser.append(chunk);
    if (this.#parser.buffered > this.limits.maxParserBuffer) this.#socket.pause();
    this.#pump();
  };

  /** The peer ended or the socket died: frames already received are handled first (a SYN_REPLY may be inflating). */
  readonly #onSocketGone = (): void => {
    this.#socketGone = true;
    if (!this.#pumping) this.destroy();
  };

  #pump(): void {
    if (this.#destroyed) return;
    // The loop stops at a full stream with whole frames still in the parser, and its finally runs a
    // microtask later. A stream read (readable()) or socket data in between used to be dropped here:
    // the finally then only resumed the socket, and a peer that had sent everything never woke the
    // pump again. The frames stayed in the parser for good; with a few hundred KB of exec stdin the
    // last one was stdin's FIN, so conmon never got the half-close and `cat` never saw EOF.
    // A wake-up during a run therefore runs the loop again.
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    this.#pumpAgain = false;
    void this.#pumpLoop().finally(() => {
      this.#pumping = false;
      if (this.#destroyed) return;
      if (this.#socketGone) return this.destroy();
      if (this.#pumpAgain && this.#full.size === 0) return this.#pump();
      if (this.#full.size === 0 && this.#parser.buffered <= this.limits.maxParserBuffer) this.#socket.resume();
      else this.#socket.pause();
    });
  }

  async #pumpLoop(): Promise<void> {
    try {
      while (!this.#destroyed && this.#full.size === 0) {
        const item = this.#parser.next();
        if (!item) return;
        if (item.kind === "data") this.#onData(item);
        else await this.#onControl(item);
      }
    } catch (e) {
      this.#protocolError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** At close, hands out the DATA already received (a server writes its last bytes and ends the socket at once). */
  #drainOnClose(): void {
    if (this.#pumping) return;
    try {
      for (let item = this.#parser.next(); item; item = this.#parser.next()) {
        if (item.kind === "data") this.#streams.get(item.streamId)?.deliver(item.chunk, item.fin);
        else if (item.type === FrameType.RST_STREAM && item.payload.length >= 8) this.#streams.get(item.payload.readUInt32BE(0) & MAX_STREAM_ID)?.peerReset(item.payload.readUInt32BE(4));
        else if (item.type === FrameType.SYN_STREAM || item.type === FrameType.SYN_REPLY || item.type === FrameType.HEADERS) return;
      }
    } catch {
      // garbage at the end of a dying connection: nothing more to hand out
    }
  }

  #onData(item: Extract<ParsedItem, { kind: "data" }>): void {
    const stream = this.#streams.get(item.streamId);
    if (!stream) {
      // Data for a stream that was reset or closed is dropped, as spdystream does; for one that never
      // existed it means the peer is not speaking SPDY (or lost sync).
      if (!this.#wasOpened(item.streamId)) throw new SpdyProtocolError(`DATA for stream ${item.streamId}, which was never opened`);
      return;
    }
    if (!stream.deliver(item.chunk, item.fin)) {
      this.#full.add(stream);
      this.#socket.pause();
    }
  }

  #wasOpened(id: number): boolean {
    if (id === 0) return false;
    const peers = id % 2 === (this.#server ? 1 : 0);
    return peers ? id <= this.#lastPeerStreamId : id < this.#nextStreamId;
  }

  async #onControl(item: Extract<ParsedItem, { kind: "control" }>): Promise<void> {
    const p = item.payload;
    const need = (n: number): void => {
      if (p.length < n) throw new SpdyProtocolError(`control frame type ${item.type} has ${p.length} bytes, needs at least ${n}`);
    };
    switch (item.type) {
      case FrameType.SYN_STREAM: {
        need(10);
        // Always inflate, even for a stream about to be refused: the zlib context spans the connection.
        const headers = await this.#codec.decompress(p.subarray(10));
        this.#onSynStream(p.readUInt32BE(0) & MAX_STREAM_ID, item.flags, headers);
        return;
      }
      case FrameType.SYN_REPLY: {
        need(4);
        const headers = await this.#codec.decompress(p.subarray(4));
        this.#onSynReply(p.readUInt32BE(0) & MAX_STREAM_ID, item.flags, headers);
        return;
      }
      case FrameType.HEADERS:
        need(4);
        await this.#codec.decompress(p.subarray(4));
        return;
      case FrameType.RST_STREAM: {
        need(8);
        const id = p.readUInt32BE(0) & MAX_STREAM_ID;
        const status = p.readUInt32BE(4);
        this.#settleOpen(id, new SpdyConnectionClosedError(`stream ${id} was reset by the peer (status ${status})`));
        this.#streams.get(id)?.peerReset(status);
        return;
      }
      case FrameType.PING: {
        need(4);
        const id = p.readUInt32BE(0);
        const ours = (id % 2 === 0) === this.#server;
        if (!ours) {
          this.#enqueue(() => pingFrame(id)).catch(() => undefined);
          return;
        }
        const pending = this.#pings.get(id);
        if (pending) {
          this.#pings.delete(id);
          pending.resolve(performance.now() - pending.start);
        }
        return;
      }
      case FrameType.GOAWAY: {
        need(8);
        const last = p.readUInt32BE(0) & MAX_STREAM_ID;
        this.#peerGoneAway = true;
        for (const [id] of this.#awaitingReply) if (id > last) this.#settleOpen(id, new SpdyConnectionClosedError(`peer sent GOAWAY before stream ${id} was accepted`));
        this.emit("goaway", last, p.length >= 8 ? p.readUInt32BE(4) : 0);
        return;
      }
      default:
        // SETTINGS, WINDOW_UPDATE (no flow control, as spdystream) and unknown types are ignored.
        return;
    }
  }

  #onSynStream(id: number, flags: number, headers: SpdyHeaders): void {
    if (id === 0) throw new SpdyProtocolError("SYN_STREAM with stream id 0");
    const peerParity = this.#server ? 1 : 0;
    if (id % 2 !== peerParity || id <= this.#lastPeerStreamId) {
      this.#enqueue(() => rstStreamFrame(id, RstStatus.PROTOCOL_ERROR)).catch(() => undefined);
      return;
    }
    this.#lastPeerStreamId = id;
    if (this.#closing || this.#streams.size >= this.limits.maxStreams || this.listenerCount("stream") === 0) {
      this.#enqueue(() => rstStreamFrame(id, RstStatus.REFUSED_STREAM)).catch(() => undefined);
      return;
    }
    const stream = new SpdyStream(this, id, headers, this.limits.streamHighWaterMark);
    this.#streams.set(id, stream);
    if (flags & FLAG_FIN) stream.remoteEnd();
    this.emit("stream", stream);
  }

  #onSynReply(id: number, flags: number, headers: SpdyHeaders): void {
    const stream = this.#streams.get(id);
    const waiter = this.#awaitingReply.get(id);
    if (!stream || !waiter) return;
    clearTimeout(waiter.timer);
    this.#awaitingReply.delete(id);
    stream.headers = headers;
    if (flags & FLAG_FIN) stream.remoteEnd();
    waiter.resolve(stream);
  }

  #settleOpen(id: number, err: Error): void {
    const waiter = this.#awaitingReply.get(id);
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.#awaitingReply.delete(id);
    this.#streams.get(id)?.peerReset(undefined);
    waiter.reject(err);
  }

  #protocolError(err: Error): void {
    if (this.#destroyed) return;
    this.emit("protocolError", err);
    // Best effort: tell the peer why, then cut. Nothing more is read from it.
    this.#socket.off("data", this.#onSocketData);
    const frame = goAwayFrame(this.#lastPeerStreamId, GoAwayStatus.PROTOCOL_ERROR);
    this.#socket.write(frame, () => this.destroy());
    setTimeout(() => this.destroy(), 1000).unref();
  }

  #armIdle(): void {
    this.#idleTimer = setTimeout(() => {
      const quiet = Date.now() - this.#lastActivity;
      if (quiet >= this.#idleTimeoutMs) {
        this.close();
        setTimeout(() => this.destroy(), 5000).unref();
      } else this.#armIdle();
    }, Math.max(50, this.#idleTimeoutMs - (Date.now() - this.#lastActivity)));
    this.#idleTimer.unref();
  }
}
