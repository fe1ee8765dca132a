// Lets Go gRPC clients (grpc-go < 1.52: crictl 1.26, older kubelets) reach the server: they send the
// unix socket path as :authority, which nghttp2 rejects; this wraps each accepted socket and fixes it.
import type net from "node:net";
import { Duplex } from "node:stream";
import { H2AuthorityRewriter } from "./frame-rewriter.js";

/**
 * A Duplex over an accepted socket for grpc-js's `createConnectionInjector().injectConnection()`:
 * reads are the client's bytes with every invalid :authority made valid at the same length
 * (e.g. "/run/berth.sock" -> "-run-berth.sock"), writes go to the socket unchanged. End, close,
 * errors, destroy and backpressure pass both ways. Node's http2 wraps it in a JSStreamSocket.
 */
export function authorityFixingDuplex(socket: net.Socket): Duplex {
  return new AuthorityFixingDuplex(socket);
}

class AuthorityFixingDuplex extends Duplex {
  private readonly rewriter = new H2AuthorityRewriter();

  constructor(private readonly socket: net.Socket) {
    super({ allowHalfOpen: true });
    socket.on("data", (chunk: Buffer) => {
      let out: Buffer[];
      try {
        out = this.rewriter.push(chunk);
      } catch (err) {
        // A bug in the rewriter must cost this connection only, not the daemon.
        this.destroy(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      let more = true;
      for (const b of out) more = this.push(b) && more;
      if (!more) socket.pause();
    });
    socket.pause(); // flow starts with the first _read
    socket.on("end", () => {
      for (const b of this.rewriter.end()) this.push(b);
      this.push(null);
    });
    socket.on("error", (err) => this.destroy(err));
    socket.on("close", () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.destroyed) return cb(new Error("write after the client socket closed"));
    if (this.socket.write(chunk)) cb();
    else this.afterDrain(cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    if (this.socket.destroyed) return cb(new Error("write after the client socket closed"));
    this.socket.cork();
    let ok = true;
    for (const { chunk } of chunks) ok = this.socket.write(chunk) && ok;
    this.socket.uncork();
    if (ok) cb();
    else this.afterDrain(cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }

  // The socket took the bytes but is over its high-water mark: finish the write once it drains
  // (or closes, which destroys this stream too).
  private afterDrain(cb: () => void): void {
    const done = (): void => {
      this.socket.off("drain", done);
      this.socket.off("close", done);
      cb();
    };
    this.socket.on("drain", done);
    this.socket.on("close", done);
  }
}
