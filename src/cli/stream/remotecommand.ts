// The client side of exec/attach over SPDY (remotecommand v4), for `berth exec -i/-t` and
// `berth attach`: the same SpdyConnection as the server, in client mode, plus the local terminal.
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import { SpdyConnection } from "../../streaming/spdy/connection.js";
import type { SpdyStream } from "../../streaming/spdy/stream.js";
import { DetachFilter } from "./detach-keys.js";
import type { LocalTerminal, TerminalSize } from "./terminal.js";
import { upgradeToSpdy } from "./upgrade.js";

export const REMOTECOMMAND_PROTOCOL = "v4.channel.k8s.io";
/** The error stream's Status is a few hundred bytes; anything bigger is not one. */
const MAX_STATUS = 64 * 1024;

export interface RemoteCommandOptions {
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable | null;
  tty: boolean;
  /** The local terminal (raw mode, sizes); only with tty. */
  terminal?: LocalTerminal | undefined;
  /** Detach sequence (empty: none). */
  detachKeys: Buffer;
}

export type RemoteCommandOutcome = { exitCode: number } | { detached: true };

/** What the v4 error stream said: Success → 0, NonZeroExitCode → that code, anything else → an Error. */
export function decodeStatus(text: string): number {
  if (text.trim() === "") return 0;
  let s: { status?: unknown; reason?: unknown; message?: unknown; details?: { causes?: Array<{ reason?: unknown; message?: unknown }> } };
  try {
    s = JSON.parse(text) as typeof s;
  } catch {
    throw new Error(text.trim());
  }
  if (s.status === "Success") return 0;
  if (s.reason === "NonZeroExitCode") {
    const cause = s.details?.causes?.find((c) => c.reason === "ExitCode");
    const code = Number(cause?.message);
    if (Number.isInteger(code) && code >= 0 && code <= 255) return code;
  }
  throw new Error(typeof s.message === "string" && s.message ? s.message : `the runtime reported: ${text.trim()}`);
}

function resizeJson(s: TerminalSize): string {
  return `${JSON.stringify({ Width: s.width, Height: s.height })}\n`;
}

async function readAll(s: SpdyStream): Promise<string> {
  let text = "";
  for await (const c of s) {
    text += String(c);
    if (text.length > MAX_STATUS) throw new Error("the runtime's error stream is larger than a Status");
  }
  return text;
}

/** Runs one exec/attach session against a streaming URL until the command ends or the user detaches. */
export async function runRemoteCommand(url: string, o: RemoteCommandOptions): Promise<RemoteCommandOutcome> {
  const up = await upgradeToSpdy(url, [REMOTECOMMAND_PROTOCOL]);
  const conn = new SpdyConnection(up.socket, { server: false, head: up.head });
  try {
    // client-go's order: error first, then stdin, stdout, stderr, resize.
    const error = await conn.openStream({ streamtype: "error" });
    const stdin = o.stdin ? await conn.openStream({ streamtype: "stdin" }) : undefined;
    const stdout = await conn.openStream({ streamtype: "stdout" });
    const stderr = o.stderr && !o.tty ? await conn.openStream({ streamtype: "stderr" }) : undefined;
    const resize = o.tty ? await conn.openStream({ streamtype: "resize" }) : undefined;
    for (const s of [error, stdout, stderr]) s?.end();

    if (resize && o.terminal) {
      const first = o.terminal.size();
      if (first) resize.write(resizeJson(first));
      o.terminal.onResize((s) => resize.write(resizeJson(s)));
    }

    let detach!: () => void;
    const detached = new Promise<"detached">((resolve) => (detach = () => resolve("detached")));
    if (stdin && o.stdin) {
      const filter = new DetachFilter(o.detachKeys);
      const local = o.stdin;
      const onData = (chunk: Buffer) => {
        const r = filter.push(chunk);
        if (r.forward.length > 0 && !stdin.write(r.forward)) {
          local.pause();
          stdin.once("drain", () => local.resume());
        }
        if (r.detach) {
          local.off("data", onData);
          detach();
        }
      };
      local.on("data", onData);
      local.once("end", () => stdin.end());
    }

    const outputDone = Promise.all([
      pipeTo(stdout, o.stdout),
      stderr && o.stderr ? pipeTo(stderr, o.stderr) : Promise.resolve(),
    ]);
    const finished = (async () => {
      const status = await readAll(error);
      await outputDone;
      return decodeStatus(status);
    })();
    const first = await Promise.race([finished, detached, once(conn, "close").then(() => "closed" as const)]);
    if (first === "detached") return { detached: true };
    if (first === "closed") {
      // The connection may close right after the Status; what was read still counts.
      return { exitCode: await Promise.race([finished, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the streaming connection closed before the command finished")), 2000))]) };
    }
    return { exitCode: first };
  } finally {
    o.stdin?.pause();
    conn.close();
    setTimeout(() => conn.destroy(), 1000).unref();
  }
}

function pipeTo(from: Readable, to: Writable): Promise<void> {
  return new Promise((resolve) => {
    from.on("data", (c: Buffer) => {
      if (!to.write(c)) {
        from.pause();
        to.once("drain", () => from.resume());
      }
    });
    from.once("end", resolve);
    from.once("close", resolve);
  });
}
