// What the event end-to-end tests share: a raw grpc-js GetContainerEvents subscriber that records
// every event and the call's end, and a raw HTTP/2 one whose connection stops reading.
import type { ClientReadableStream } from "@grpc/grpc-js";
import { once } from "node:events";
import http2 from "node:http2";
import { connect, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { ContainerEventResponse, ContainerEventType } from "../../src/generated/runtime/v1/api.js";
import type { Daemon } from "../fixtures/daemon.js";

export interface Watch {
  call: ClientReadableStream<ContainerEventResponse>;
  events: ContainerEventResponse[];
  /** Resolves with the call's end: its gRPC code and details. */
  ended: Promise<{ code: number; details: string }>;
  until(pred: (e: ContainerEventResponse) => boolean, timeoutMs?: number): Promise<ContainerEventResponse>;
}

/** Subscribes and resolves once the daemon has the subscription (it sends headers then). */
export async function watchEvents(d: Daemon, o: { read?: boolean } = {}): Promise<Watch> {
  const c = d.client;
  const call = c.runtime.getContainerEvents({});
  const events: ContainerEventResponse[] = [];
  const waiters = new Set<() => void>();
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    call.on("status", (s: { code: number; details: string }) => resolve({ code: s.code, details: s.details }));
    call.on("error", () => undefined);
  });
  if (o.read !== false) {
    call.on("data", (e: ContainerEventResponse) => {
      events.push(e);
      for (const w of [...waiters]) w();
    });
  }
  await new Promise<void>((resolve, reject) => {
    call.once("metadata", () => resolve());
    call.once("error", reject);
  });
  return {
    call,
    events,
    ended,
    until(pred, timeoutMs = 30_000) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event in ${timeoutMs} ms; got ${events.map(describe).join(", ")}`));
        }, timeoutMs);
        const check = () => {
          const e = events.find(pred);
          if (!e) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(e);
        };
        waiters.add(check);
      });
    },
  };
}

export const is = (id: string, type: ContainerEventType) => (e: ContainerEventResponse) => e.containerId === id && e.containerEventType === type;

export function describe(e: ContainerEventResponse): string {
  return `${e.containerId.slice(0, 8)}:${ContainerEventType[e.containerEventType].replace(/^CONTAINER_|_EVENT$/g, "")}`;
}

/** A socket between an HTTP/2 client and the daemon that can stop reading entirely, like a stuck peer. */
class Gate extends Duplex {
  private open = true;
  constructor(private readonly sock: Socket) {
    super();
    sock.on("data", (d: Buffer) => {
      if (!this.push(d)) sock.pause();
    });
    sock.on("end", () => this.push(null));
    sock.on("error", (err) => this.destroy(err));
  }
  override _read(): void {
    if (this.open) this.sock.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sock.write(chunk, cb);
  }
  override _final(cb: () => void): void {
    this.sock.end(cb);
  }
  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.sock.destroy();
    cb(err);
  }
  stall(): void {
    this.open = false;
    this.sock.pause();
  }
  unstall(): void {
    this.open = true;
    this.sock.resume();
  }
}

export interface StalledWatch {
  /** Starts reading again; resolves with every event received and the call's gRPC status. */
  resume(): Promise<{ events: ContainerEventResponse[]; code: number; details: string }>;
}

/**
 * A raw HTTP/2 GetContainerEvents subscriber whose connection stops reading once the daemon has
 * the subscription: the kernel's and the daemon's buffers fill, as with a stuck kubelet.
 */
export async function stalledWatch(socket: string): Promise<StalledWatch> {
  const gate = new Gate(connect(socket));
  const session = http2.connect("http://localhost", { createConnection: () => gate });
  session.on("error", () => undefined);
  const req = session.request({ ":method": "POST", ":path": "/runtime.v1.RuntimeService/GetContainerEvents", "content-type": "application/grpc", te: "trailers" });
  req.end(Buffer.from([0, 0, 0, 0, 0]));
  const chunks: Buffer[] = [];
  req.pause();
  let trailers: http2.IncomingHttpHeaders = {};
  req.on("trailers", (t) => (trailers = t));
  const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
  gate.stall();
  return {
    async resume() {
      gate.unstall();
      req.on("data", (c: Buffer) => chunks.push(c));
      req.resume();
      await once(req, "end");
      session.close();
      const all = Buffer.concat(chunks);
      const events: ContainerEventResponse[] = [];
      for (let off = 0; off + 5 <= all.length; ) {
        const len = all.readUInt32BE(off + 1);
        events.push(ContainerEventResponse.decode(all.subarray(off + 5, off + 5 + len)));
        off += 5 + len;
      }
      const t = { ...headers, ...trailers };
      return { events, code: Number(t["grpc-status"]), details: decodeURIComponent(String(t["grpc-message"] ?? "")) };
    },
  };
}
