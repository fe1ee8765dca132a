// exec/attach over WebSocket (kubelet's channel layout: 0 stdin, 1 stdout, 2 stderr, 3 error,
// 4 resize) as the same transport-neutral session SPDY produces, so backends are shared.
import { EventEmitter } from "node:events";
import type { Readable, Writable } from "node:stream";
import type { RemoteCommandSession, SessionEvents, SessionResult, TerminalSize } from "../remotecommand/session.js";
import { ResizeDecoder } from "../remotecommand/resize.js";
import { statusText, statusV4 } from "../remotecommand/status.js";
import type { ChannelMode, WsChannels } from "./channel-streams.js";

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;

export interface WsSessionOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  stdinOnce?: boolean;
}

/** Channel modes as kubelet opens them: the error channel always, resize always readable. */
export function remoteCommandChannels(o: WsSessionOptions): ChannelMode[] {
  return [
    { read: o.stdin, write: false },
    { read: false, write: o.stdout },
    { read: false, write: o.stderr },
    { read: false, write: true },
    { read: true, write: false },
  ];
}

export class WsRemoteCommandSession implements RemoteCommandSession {
  readonly stdin: Readable | null;
  readonly stdout: Writable | null;
  readonly stderr: Writable | null;
  readonly tty: boolean;
  readonly stdinOnce: boolean;
  readonly events = new EventEmitter<SessionEvents>();
  lastSize: TerminalSize | undefined;
  isGone = false;
  private finished = false;

  constructor(private readonly ch: WsChannels, o: WsSessionOptions) {
    const s = ch.streams;
    for (const x of s) x.on("error", () => undefined);
    this.stdin = o.stdin ? s[STDIN]! : null;
    this.stdout = o.stdout ? s[STDOUT]! : null;
    this.stderr = o.stderr && !o.tty ? s[STDERR]! : null;
    this.tty = o.tty;
    this.stdinOnce = o.stdinOnce ?? false;
    const sizes = new ResizeDecoder();
    s[RESIZE]!.on("data", (chunk: Buffer) => {
      if (!this.tty) return;
      for (const size of sizes.push(chunk)) {
        this.lastSize = size;
        this.events.emit("resize", size);
      }
    });
    void ch.closed.then(() => {
      if (this.finished || this.isGone) return;
      this.isGone = true;
      this.events.emit("gone");
    });
    // kubelet's hello: an empty message on the lowest channel we write, so the client knows we are ready.
    const first = o.stdout ? STDOUT : o.stderr ? STDERR : ERROR;
    s[first]!.write(Buffer.alloc(0));
  }

  async finish(result: SessionResult): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const s = this.ch.streams;
    const text = this.ch.protocol.version >= 4 ? statusV4(result) : statusText(result);
    if (text !== "" && !this.isGone) await new Promise<void>((resolve) => s[ERROR]!.write(text, () => resolve()));
    this.ch.close(1000);
    await this.ch.closed;
  }
}
