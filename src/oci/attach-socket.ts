// A client of conmon's SOCK_SEQPACKET attach socket (container or exec session): output packets
// carry a pipe byte (2 stdout, 3 stderr), stdin goes raw in packets, half-close ends the container's stdin.
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import type { SeqpacketSocket } from "node-unix-socket";
import { failedPrecondition } from "../errors.js";

/** conmon utils.h stdpipe_t. */
const STDOUT_PIPE = 2;
const STDERR_PIPE = 3;
/** conmon reads stdin packets into a fixed buffer; a larger SEQPACKET message would be cut. */
const STDIN_PACKET = 8192;

// Loaded at the first attach: the package brings its native addon, node:cluster and node:dgram
// (~0.7 MiB resident in an idle daemon that never attaches).
let Seqpacket: typeof SeqpacketSocket | undefined;

export interface AttachSocketEvents {
  output: [pipe: "stdout" | "stderr", data: Buffer];
  /** conmon closed its side: the process's output is over (or conmon died). */
  end: [];
}

export class AttachSocket extends EventEmitter<AttachSocketEvents> {
  readonly #sock: SeqpacketSocket;
  #ended = false;
  #closed = false;

  private constructor(sock: SeqpacketSocket) {
    super();
    this.#sock = sock;
    sock.on("data", (buf: Buffer) => {
      if (buf.length < 1) return;
      const pipe = buf[0] === STDERR_PIPE ? "stderr" : buf[0] === STDOUT_PIPE ? "stdout" : undefined;
      if (pipe && buf.length > 1) this.emit("output", pipe, buf.subarray(1));
    });
    sock.on("end", () => this.#end());
    sock.on("close", () => this.#end());
    sock.on("error", () => this.#end());
  }

  /** Connects to the socket at path (through the socket dir's short link). */
  static connect(path: string, what: string): Promise<AttachSocket> {
    return new Promise((resolve, reject) => {
      Seqpacket ??= (createRequire(import.meta.url)("node-unix-socket") as typeof import("node-unix-socket")).SeqpacketSocket;
      const sock = new Seqpacket();
      const onError = (e: Error): void => reject(failedPrecondition(`${what}: cannot connect to conmon's attach socket ${path}: ${e.message}`));
      sock.once("error", onError);
      try {
        sock.connect(path, () => {
          sock.off("error", onError);
          resolve(new AttachSocket(sock));
        });
      } catch (e) {
        reject(failedPrecondition(`${what}: cannot connect to conmon's attach socket ${path}: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Writes stdin bytes as packets; resolves when the kernel took the last one (the caller's back-pressure). */
  write(data: Buffer): Promise<void> {
    if (this.#closed || data.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      try {
        for (let off = 0; off < data.length; off += STDIN_PACKET) {
          const end = Math.min(off + STDIN_PACKET, data.length);
          // The library queues writes in order; only the last callback matters.
          this.#sock.write(data, off, end - off, end === data.length ? () => resolve() : undefined);
        }
      } catch {
        resolve();
      }
    });
  }

  /** Half-close: conmon closes the process's stdin (unless it was told to leave it open). */
  endInput(): void {
    if (this.#closed) return;
    try {
      this.#sock.end();
    } catch {
      // already gone
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#sock.destroy();
    } catch {
      // already destroyed
    }
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.emit("end");
  }
}
