// remotecommand over SPDY/3.1 (kubelet's remotecommand/httpstream.go): negotiate, upgrade, wait
// for the client's error/stdin/stdout/stderr/resize streams, run the backend, report on the error stream.
import { EventEmitter, once } from "node:events";
import type { Duplex } from "node:stream";
import { logger } from "../../util/log.js";
import { acceptSpdyUpgrade, negotiate, writeHttpError } from "../handshake.js";
import type { StreamContext } from "../server.js";
import { SpdyConnection } from "../spdy/connection.js";
import { RstStatus } from "../spdy/frames.js";
import type { SpdyStream } from "../spdy/stream.js";
import { ResizeDecoder } from "./resize.js";
import type { RemoteCommandSession, SessionBackend, SessionEvents, SessionResult, TerminalSize } from "./session.js";
import { statusText, statusV4 } from "./status.js";

const log = logger("remotecommand");

export const REMOTECOMMAND_PROTOCOLS = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"] as const;
/** kubelet's stream creation timeout: every expected stream must be open by then. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** After the status is written: how long the client gets to read it before the socket is cut. */
const CLOSE_GRACE_MS = 5_000;

export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  stdinOnce?: boolean;
  streamCreationTimeoutMs?: number;
}

type StreamType = "error" | "stdin" | "stdout" | "stderr" | "resize";

/** Serves one exec/attach connection over SPDY; resolves when it is closed. */
export async function serveSpdyRemoteCommand(ctx: StreamContext, opts: RemoteCommandOptions, backend: SessionBackend): Promise<void> {
  const n = negotiate(ctx.req, REMOTECOMMAND_PROTOCOLS);
  if (!n.ok) return writeHttpError(ctx.socket, n.status, n.message, n.headers);
  const protocol = n.protocol;
  const v4 = protocol === "v4.channel.k8s.io";
  acceptSpdyUpgrade(ctx.socket, protocol);
  const conn = new SpdyConnection(ctx.socket, { server: true, head: ctx.head, idleTimeoutMs: ctx.idleTimeoutMs });
  const closed = once(conn, "close").then(() => undefined);

  const expected = new Set<StreamType>(["error"]);
  if (opts.stdin) expected.add("stdin");
  if (opts.stdout) expected.add("stdout");
  if (opts.stderr && !opts.tty) expected.add("stderr");
  // The resize stream exists from v3 on.
  if (opts.tty && protocol !== "v2.channel.k8s.io" && protocol !== "channel.k8s.io") expected.add("resize");

  const streams = new Map<StreamType, SpdyStream>();
  const allThere = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), opts.streamCreationTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS);
    timer.unref();
    conn.on("close", () => {
      clearTimeout(timer);
      resolve(false);
    });
    conn.on("stream", (s) => {
      const type = s.header("streamtype") as StreamType;
      if (!expected.has(type) || streams.has(type)) {
        // A stream nobody asked for (or a second one of a kind): refused, the session goes on.
        s.reset(RstStatus.REFUSED_STREAM);
        return;
      }
      streams.set(type, s);
      void s.reply();
      if (streams.size === expected.size) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  if (!(await allThere)) {
    log.debug({ got: [...streams.keys()], expected: [...expected] }, "client did not open the expected streams in time");
    conn.destroy();
    return;
  }

  const session = new SpdySession(conn, streams, opts, v4);
  let result: SessionResult;
  try {
    result = await backend(session);
  } catch (err) {
    result = { error: err instanceof Error ? err.message : String(err) };
  }
  await session.finish(result);
  await closed;
}

class SpdySession implements RemoteCommandSession {
  readonly stdin: SpdyStream | null;
  readonly stdout: SpdyStream | null;
  readonly stderr: SpdyStream | null;
  readonly tty: boolean;
  readonly stdinOnce: boolean;
  readonly events = new EventEmitter<SessionEvents>();
  lastSize: TerminalSize | undefined;
  #gone = false;
  #finished: Promise<void> | undefined;

  constructor(
    private readonly conn: SpdyConnection,
    private readonly streams: Map<StreamType, SpdyStream>,
    opts: RemoteCommandOptions,
    private readonly v4: boolean,
  ) {
    this.stdin = streams.get("stdin") ?? null;
    this.stdout = streams.get("stdout") ?? null;
    this.stderr = streams.get("stderr") ?? null;
    this.tty = opts.tty;
    this.stdinOnce = opts.stdinOnce ?? false;
    const resize = streams.get("resize");
    if (resize) {
      const dec = new ResizeDecoder();
      resize.on("data", (d: Buffer) => {
        for (const size of dec.push(d)) {
          this.lastSize = size;
          this.events.emit("resize", size);
        }
      });
    }
    conn.once("close", () => {
      if (this.#finished) return;
      this.#gone = true;
      this.events.emit("gone");
    });
  }

  get isGone(): boolean {
    return this.#gone;
  }

  finish(result: SessionResult): Promise<void> {
    this.#finished ??= this.#finish(result);
    return this.#finished;
  }

  async #finish(result: SessionResult): Promise<void> {
    if (this.#gone || this.conn.destroyed) {
      this.conn.destroy();
      return;
    }
    // A client that stopped reading never lets the last bytes out: the whole ending is bounded.
    const timer = setTimeout(() => this.conn.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    const closed = once(this.conn, "close").catch(() => undefined);
    await Promise.all([this.stdout, this.stderr].map((s) => (s ? endStream(s) : undefined)));
    const error = this.streams.get("error");
    const text = this.v4 ? statusV4(result) : statusText(result);
    if (error) await endStream(error, text ? Buffer.from(text) : undefined);
    this.conn.close();
    await closed;
    clearTimeout(timer);
  }
}

/** Writes the last bytes, ends (FIN), and waits until the FIN went out or the stream died. */
function endStream(s: Duplex, last?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed || s.writableFinished) return resolve();
    s.once("finish", () => resolve());
    s.once("close", () => resolve());
    if (last) s.end(last);
    else s.end();
  });
}
