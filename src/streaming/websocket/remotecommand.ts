// exec/attach over WebSocket (kubelet's channel layout: 0 stdin, 1 stdout, 2 stderr, 3 error,
// 4 resize) as the same transport-neutral session SPDY produces, so backends are shared.
import { EventEmitter } from "node:events";
import type { Readable, Writable } from "node:stream";
import type { RemoteCommandSession, SessionEvents, SessionResult, TerminalSize } from "../remotecommand/session.js";
import type { ChannelMode, WsChannels } from "./channel-streams.js";

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;

/** Resize text held while waiting for a complete JSON object; a client sending more is cut. */
const MAX_RESIZE_BUFFER = 4096;

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

/**
 * The remotecommand Status the error channel carries at the end (v4 and v5), as kubelet's
 * errorDecoderV4 expects it; v1 carries only the error text.
 */
export function statusMessage(result: SessionResult, version: 1 | 4 | 5): string {
  if ("exitCode" in result && result.exitCode === 0) return version >= 4 ? JSON.stringify({ metadata: {}, status: "Success" }) : "";
  if ("exitCode" in result) {
    const message = `command terminated with non-zero exit code: exit status ${result.exitCode}`;
    if (version < 4) return message;
    return JSON.stringify({
      metadata: {},
      status: "Failure",
      message,
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: String(result.exitCode) }] },
    });
  }
  if (version < 4) return result.error;
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${result.error}`,
    reason: "InternalError",
    details: { causes: [{ message: result.error }] },
    code: 500,
  });
}

/** Splits concatenated / newline-separated JSON resize objects; returns the sizes and the unfinished rest. */
export function parseResizes(text: string): { sizes: TerminalSize[]; rest: string } {
  const sizes: TerminalSize[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && depth > 0 && --depth === 0) {
      try {
        const o = JSON.parse(text.slice(start, i + 1)) as { Width?: unknown; Height?: unknown };
        const w = Number(o.Width);
        const h = Number(o.Height);
        if (Number.isInteger(w) && Number.isInteger(h) && w >= 0 && h >= 0 && w <= 65535 && h <= 65535) sizes.push({ width: w, height: h });
      } catch {
        // not JSON: ignored, as kubelet logs and skips a bad resize
      }
    }
  }
  return { sizes, rest: depth > 0 ? text.slice(start) : "" };
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
    let pending = "";
    s[RESIZE]!.setEncoding("utf8");
    s[RESIZE]!.on("data", (chunk: string) => {
      if (!this.tty) return;
      const r = parseResizes(pending + chunk);
      pending = r.rest;
      if (pending.length > MAX_RESIZE_BUFFER) {
        ch.close(1009, "resize message too large");
        return;
      }
      for (const size of r.sizes) {
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
    const text = statusMessage(result, this.ch.protocol.version);
    if (text !== "" && !this.isGone) await new Promise<void>((resolve) => s[ERROR]!.write(text, () => resolve()));
    this.ch.close(1000);
    await this.ch.closed;
  }
}
