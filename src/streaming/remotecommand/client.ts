// remotecommand client over SPDY (what client-go's v4 executor does): opens the error, stdin,
// stdout, stderr and resize streams, copies the caller's streams, and decodes the final Status.
import { finished } from "node:stream/promises";
import type { Readable, Writable } from "node:stream";
import { dialSpdy, type DialOptions } from "../spdy/dial.js";
import type { SpdyStream } from "../spdy/stream.js";
import { REMOTECOMMAND_PROTOCOLS } from "./spdy.js";
import type { SessionResult, TerminalSize } from "./session.js";

export interface RemoteCommandClientOptions {
  stdin?: Readable | undefined;
  stdout?: Writable | undefined;
  stderr?: Writable | undefined;
  tty?: boolean;
  /** Sizes to send (tty): the initial one, then each change. */
  resizes?: AsyncIterable<TerminalSize> | undefined;
  tls?: Pick<DialOptions, "ca" | "cert" | "key">;
  /** Called once the streams are set up (tests use it to cut a session mid-way). */
  onReady?: (abort: () => void) => void;
}

async function readAll(s: SpdyStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Decodes the v4 error stream: Success, NonZeroExitCode (ExitCode cause) or a failure message. */
export function decodeStatus(text: string): SessionResult {
  if (!text.trim()) return { exitCode: 0 };
  let st: { status?: string; reason?: string; message?: string; details?: { causes?: Array<{ reason?: string; message?: string }> } };
  try {
    st = JSON.parse(text) as typeof st;
  } catch {
    return { error: text.trim() };
  }
  if (st.status === "Success") return { exitCode: 0 };
  if (st.reason === "NonZeroExitCode") {
    const cause = st.details?.causes?.find((c) => c.reason === "ExitCode");
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return { exitCode: code };
  }
  return { error: st.message ?? text.trim() };
}

/** Runs an exec/attach session at url to its end. */
export async function runRemoteCommand(url: string, o: RemoteCommandClientOptions): Promise<SessionResult> {
  const { conn } = await dialSpdy(url, { protocols: REMOTECOMMAND_PROTOCOLS, ...o.tls });
  try {
    // The error stream first, as client-go does; the server sees the rest in this order too.
    const error = await conn.openStream({ streamtype: "error" });
    error.end();
    const stdin = o.stdin ? await conn.openStream({ streamtype: "stdin" }) : undefined;
    const stdout = o.stdout ? await conn.openStream({ streamtype: "stdout" }) : undefined;
    const stderr = o.stderr && !o.tty ? await conn.openStream({ streamtype: "stderr" }) : undefined;
    const resize = o.tty ? await conn.openStream({ streamtype: "resize" }) : undefined;
    for (const s of [stdout, stderr]) s?.end();
    o.onReady?.(() => conn.destroy());

    const copies: Promise<unknown>[] = [];
    if (stdout && o.stdout) {
      stdout.pipe(o.stdout, { end: false });
      copies.push(finished(stdout, { writable: false }).catch(() => undefined));
    }
    if (stderr && o.stderr) {
      stderr.pipe(o.stderr, { end: false });
      copies.push(finished(stderr, { writable: false }).catch(() => undefined));
    }
    if (stdin && o.stdin) {
      o.stdin.pipe(stdin);
    }
    if (resize && o.resizes) {
      void (async () => {
        for await (const s of o.resizes!) {
          if (resize.destroyed || resize.writableEnded) break;
          resize.write(JSON.stringify({ Width: s.width, Height: s.height }) + "\n");
        }
      })().catch(() => undefined);
    }
    const status = await readAll(error).catch(() => undefined);
    await Promise.all(copies);
    if (status === undefined) return { error: "the connection was closed before the session finished" };
    return decodeStatus(status);
  } finally {
    if (o.stdin) o.stdin.unpipe();
    conn.destroy();
  }
}
