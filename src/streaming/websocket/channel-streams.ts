// One upgraded k8s WebSocket as a set of per-channel Duplex streams, so WebSocket sessions feed
// the same stream-based code as SPDY: reads are a channel's client data, writes go out framed.
import { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { logger } from "../../util/log.js";
import { decodeMessage, encodeMessage, type WsProtocol } from "./channels.js";

const log = logger("websocket");
/** Per channel: client data buffered before the socket pauses. */
const HIGH_WATER = 256 * 1024;

export interface ChannelMode {
  /** The client may send on it (stdin, resize, port-forward data). */
  read: boolean;
  /** We send on it (stdout, stderr, error, port-forward data and error). */
  write: boolean;
}

/** A channel's stream: readable = the client's messages on it; writable = ours to the client. */
export class ChannelStream extends Duplex {
  constructor(
    private readonly owner: WsChannels,
    readonly channel: number,
    readonly mode: ChannelMode,
  ) {
    super({ readableHighWaterMark: HIGH_WATER, allowHalfOpen: true });
    // A channel the client cannot send on has nothing to read.
    if (!mode.read) this.push(null);
  }

  override _read(): void {
    this.owner.resumeIfBehind();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.mode.write) return cb();
    this.owner.send(this.channel, chunk, cb);
  }
}

/**
 * Splits an open WebSocket into channels. Messages on unknown or write-only channels are
 * dropped (as wsstream does); malformed base64 closes the connection (1007); a v5 close signal
 * ends that channel's readable side; the connection closing ends every channel.
 */
export class WsChannels {
  readonly streams: ChannelStream[];
  readonly closed: Promise<void>;
  private idleTimer: NodeJS.Timeout | undefined;

  /** `idleTimeoutMs`: no message either way for this long closes the connection (0: never). */
  constructor(
    private readonly ws: WebSocket,
    readonly protocol: WsProtocol,
    modes: readonly ChannelMode[],
    private readonly idleTimeoutMs = 0,
  ) {
    this.streams = modes.map((m, i) => new ChannelStream(this, i, m));
    ws.on("message", (data, isBinary) => {
      this.touch();
      this.receive(toBuffer(data), isBinary);
    });
    this.touch();
    this.closed = new Promise((resolve) => {
      ws.once("close", () => {
        clearTimeout(this.idleTimer);
        for (const s of this.streams) {
          if (!s.readableEnded) s.push(null);
          // Nothing more can be sent: a writer still going gets an error, not a hang.
          if (!s.writableFinished) s.destroy();
        }
        resolve();
      });
    });
  }

  private touch(): void {
    if (this.idleTimeoutMs <= 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      log.debug({ idleMs: this.idleTimeoutMs }, "WebSocket idle; closing");
      this.close(1000, "idle timeout");
      // A peer that does not answer the close handshake is cut.
      setTimeout(() => this.terminate(), 5000).unref();
    }, this.idleTimeoutMs);
  }

  private receive(msg: Buffer, _isBinary: boolean): void {
    let m;
    try {
      m = decodeMessage(this.protocol.codec, msg, this.protocol.version === 5);
    } catch (err) {
      log.debug({ err: (err as Error).message }, "bad WebSocket channel message; closing");
      this.ws.close(1007, (err as Error).message.slice(0, 120));
      return;
    }
    if (m.kind === "empty") return;
    const s = this.streams[m.channel];
    if (!s?.mode.read || s.readableEnded) return;
    if (m.kind === "close") {
      s.push(null);
      return;
    }
    if (m.data.length > 0 && !s.push(m.data)) this.ws.pause();
  }

  /** A channel's consumer caught up: read from the socket again once no channel is full. */
  resumeIfBehind(): void {
    if (!this.ws.isPaused) return;
    if (this.streams.every((s) => !s.mode.read || s.readableEnded || s.readableLength < s.readableHighWaterMark)) this.ws.resume();
  }

  send(channel: number, data: Buffer, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) return cb(new Error("the WebSocket is closed"));
    this.touch();
    const frame = encodeMessage(this.protocol.codec, channel, data);
    this.ws.send(frame, { binary: typeof frame !== "string" }, (err) => cb(err ?? null));
  }

  /** Closes the connection normally (1000), after what was sent so far. */
  close(code = 1000, reason = ""): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }

  /** Cuts the connection at once (a client that vanished or misbehaved). */
  terminate(): void {
    this.ws.terminate();
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
