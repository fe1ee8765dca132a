// port-forward over SPDY (`portforward.k8s.io`), kubelet's httpstream handler: the client opens
// an error and a data stream per forwarded connection (headers streamtype, port, requestid);
// once both are here the data stream is spliced to localhost:<port> in the pod.
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { logger } from "../../util/log.js";
import { isPort } from "../../network/localhost-dial.js";
import { splice } from "./splice.js";

const log = logger("port-forward");

/** The part of a SPDY stream this needs (the core's SpdyStream has it). */
export interface PortForwardStream extends Duplex {
  readonly id: number;
  header(name: string): string;
  reply(): Promise<void>;
  reset(): void;
}

export interface PortForwardTarget {
  /** A connected socket to localhost:<port> in the pod. */
  dial(port: number): Promise<Socket>;
  /** Names the pod in error messages (kubelet: "pod <name>, uid <uid>"). */
  podName: string;
}

export interface SpdyPortForwardOptions {
  /** A pair whose second stream does not arrive within this fails (kubelet: stream creation timeout, 30 s). */
  pairTimeoutMs?: number;
  /** Forwarded connections (pairs, waiting or running) per upgraded connection; more are refused. */
  maxPairs?: number;
}

interface Pair {
  id: string;
  port: number;
  data?: PortForwardStream;
  error?: PortForwardStream;
  timer: NodeJS.Timeout;
  started: boolean;
}

/** The text kubelet writes on a failed pair's error stream. */
export function forwardError(port: number, pod: string, err: unknown): string {
  return `error forwarding port ${port} to pod ${pod}, uid : ${(err as Error).message ?? String(err)}`;
}

/** One upgraded port-forward connection: feed it every stream the client opens. */
export class SpdyPortForward {
  private readonly pairs = new Map<string, Pair>();
  private readonly pairTimeoutMs: number;
  private readonly maxPairs: number;
  private closed = false;

  constructor(private readonly target: PortForwardTarget, opts: SpdyPortForwardOptions = {}) {
    this.pairTimeoutMs = opts.pairTimeoutMs ?? 30_000;
    this.maxPairs = opts.maxPairs ?? 256;
  }

  /** Forwarded connections waiting for their second stream or running. */
  get size(): number {
    return this.pairs.size;
  }

  accept(s: PortForwardStream): void {
    s.on("error", () => undefined);
    const type = s.header("streamtype");
    const portText = s.header("port");
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (this.closed || (type !== "data" && type !== "error") || !isPort(port)) {
      log.debug({ stream: s.id, type, port: portText }, "port-forward stream refused: bad streamtype or port header");
      s.reset();
      return;
    }
    // Old clients send no requestid: the error stream comes first, the data stream 2 ids later.
    const id = s.header("requestid") || String(type === "error" ? s.id : s.id - 2);
    let p = this.pairs.get(id);
    if (!p) {
      if (this.pairs.size >= this.maxPairs) {
        log.debug({ stream: s.id, max: this.maxPairs }, "port-forward stream refused: too many forwarded connections");
        s.reset();
        return;
      }
      const pair: Pair = { id, port, timer: setTimeout(() => this.timeout(pair), this.pairTimeoutMs), started: false };
      p = pair;
      this.pairs.set(id, pair);
    }
    if (p[type] || p.port !== port) {
      s.reset();
      return;
    }
    p[type] = s;
    void s.reply().catch(() => undefined);
    if (p.data && p.error) void this.run(p);
  }

  private timeout(p: Pair): void {
    if (p.started || this.pairs.get(p.id) !== p) return;
    this.pairs.delete(p.id);
    p.error?.end(`timed out waiting for streams of request ${p.id}`);
    p.data?.reset();
  }

  private async run(p: Pair): Promise<void> {
    p.started = true;
    clearTimeout(p.timer);
    const data = p.data!;
    const error = p.error!;
    try {
      let sock: Socket;
      try {
        sock = await this.target.dial(p.port);
      } catch (err) {
        const msg = forwardError(p.port, this.target.podName, err);
        log.debug({ request: p.id, err: msg }, "port-forward connection failed");
        // The client reads the message to EOF; the data stream is of no use any more.
        error.end(msg);
        data.reset();
        return;
      }
      if (data.destroyed) {
        sock.destroy();
        error.end();
        return;
      }
      await splice(data, sock);
      if (!data.writableEnded && !data.destroyed) data.end();
      error.end();
    } finally {
      this.pairs.delete(p.id);
    }
  }

  /** The connection is gone: waiting pairs go, running ones are reset (their sockets follow). */
  close(): void {
    this.closed = true;
    for (const p of this.pairs.values()) {
      clearTimeout(p.timer);
      p.data?.reset();
      p.error?.reset();
    }
    this.pairs.clear();
  }
}
