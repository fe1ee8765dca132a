// The transport-neutral shape of one exec/attach session: SPDY (remotecommand over spdy/) and
// WebSocket transports both produce it, so the exec and attach backends are written once.
import type { EventEmitter } from "node:events";
import type { Readable, Writable } from "node:stream";

export interface TerminalSize {
  width: number;
  height: number;
}

export type SessionResult = { exitCode: number } | { error: string };

export interface SessionEvents {
  /** A terminal size from the client (tty sessions only); the first one may arrive before the command starts. */
  resize: [TerminalSize];
  /** The client went away (connection closed or reset) before finish(): the backend stops and cleans up. */
  gone: [];
}

export interface RemoteCommandSession {
  /** Client → process; ends at the client's half-close. Null when stdin was not requested. */
  readonly stdin: Readable | null;
  /** Process → client. Null when not requested. The backend does not end them: finish() does. */
  readonly stdout: Writable | null;
  /** Always null for a tty session (tty and stderr together is refused at the RPC). */
  readonly stderr: Writable | null;
  readonly tty: boolean;
  /** Attach: the container's stdin closes when the client's stdin ends (CRI stdin_once). */
  readonly stdinOnce?: boolean;
  readonly events: EventEmitter<SessionEvents>;
  /** The last size received so far, if any (so a late listener still gets the initial size). */
  readonly lastSize: TerminalSize | undefined;
  /** True once the client is gone (see the "gone" event). */
  readonly isGone: boolean;
  /**
   * Ends the session: flushes and closes stdout/stderr, reports the result (v4: a Status on the error
   * stream; exit code 0 = Success), closes the connection. Called once; later calls are no-ops.
   */
  finish(result: SessionResult): Promise<void>;
}

/** What the streaming server asks of a backend for one session. */
export type SessionBackend = (session: RemoteCommandSession) => Promise<SessionResult>;
