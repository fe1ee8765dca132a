// Joins a remotecommand session to conmon's attach socket: output packets to stdout/stderr,
// stdin with back-pressure and half-close; a client that stops reading is cut at a fixed buffer.
import type { AttachSocket } from "../oci/attach-socket.js";
import type { RemoteCommandSession } from "../streaming/remotecommand/session.js";

/** Output held for a client that does not read (conmon's socket cannot be paused from Node). */
export const MAX_PENDING_OUTPUT = 16 * 1024 * 1024;

export interface Bridge {
  /** Resolves when conmon closed the socket (the process's output is over). */
  outputDone: Promise<void>;
  /** Resolves when the client's stdin ended (never, without stdin). */
  stdinDone: Promise<void>;
  /** Set when the client fell more than MAX_PENDING_OUTPUT behind and the bridge gave up. */
  overflowed: () => boolean;
}

export function bridge(sock: AttachSocket, session: RemoteCommandSession, onOverflow: () => void): Bridge {
  let overflow = false;
  sock.on("output", (pipe, data) => {
    const target = pipe === "stderr" && !session.tty ? session.stderr : session.stdout;
    if (!target || target.destroyed || target.writableEnded) return;
    if (target.writableLength > MAX_PENDING_OUTPUT) {
      if (!overflow) {
        overflow = true;
        onOverflow();
      }
      return;
    }
    target.write(data);
  });
  const outputDone = new Promise<void>((resolve) => {
    if (sock.ended) resolve();
    else sock.once("end", () => resolve());
  });
  const stdin = session.stdin;
  const stdinDone = new Promise<void>((resolve) => {
    if (!stdin) return;
    // One write at a time, in order; 'end' may come while the last chunk is still being written.
    let writing: Promise<void> = Promise.resolve();
    stdin.on("data", (d: Buffer) => {
      stdin.pause();
      writing = writing.then(() => sock.write(d)).then(() => void stdin.resume());
    });
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      void writing.then(() => {
        sock.endInput();
        resolve();
      });
    };
    stdin.once("end", end);
  });
  return { outputDone, stdinDone, overflowed: () => overflow };
}
