// What the streaming end-to-end tests share: Exec/Attach URLs from the real daemon, a session
// run through Berth's own SPDY client with captured output, and a Writable that collects bytes.
import { PassThrough, Readable, Writable } from "node:stream";
import { call } from "../../src/cli/client.js";
import { AttachRequest, ExecRequest } from "../../src/generated/runtime/v1/api.js";
import { runRemoteCommand, type RemoteCommandClientOptions } from "../../src/streaming/remotecommand/client.js";
import type { SessionResult, TerminalSize } from "../../src/streaming/remotecommand/session.js";
import type { Daemon } from "../fixtures/daemon.js";

export async function execUrl(d: Daemon, o: Partial<ExecRequest> & { containerId: string; cmd: string[] }): Promise<string> {
  const c = d.client;
  const req = ExecRequest.fromPartial({ stdout: true, stderr: !o.tty, ...o });
  return (await call(c, c.runtime, c.runtime.exec, req)).url;
}

export async function attachUrl(d: Daemon, o: Partial<AttachRequest> & { containerId: string }): Promise<string> {
  const c = d.client;
  const req = AttachRequest.fromPartial({ stdout: true, stderr: !o.tty, ...o });
  return (await call(c, c.runtime, c.runtime.attach, req)).url;
}

export class Collect extends Writable {
  chunks: Buffer[] = [];
  length = 0;
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export interface Ran {
  result: SessionResult;
  stdout: Collect;
  stderr: Collect;
}

export interface Running {
  stdout: Collect;
  stderr: Collect;
  done: Promise<SessionResult>;
}

type SessionOptions = { stdin?: string | Buffer | Readable; tty?: boolean; resizes?: AsyncIterable<TerminalSize>; onReady?: RemoteCommandClientOptions["onReady"] };

/** Starts the session at url with our own client; its output is readable while it runs. */
export function startSession(url: string, o: SessionOptions = {}): Running {
  const stdout = new Collect();
  const stderr = new Collect();
  let stdin: Readable | undefined;
  if (o.stdin instanceof Readable) stdin = o.stdin;
  else if (o.stdin !== undefined) {
    const p = new PassThrough();
    p.end(o.stdin);
    stdin = p;
  }
  const done = runRemoteCommand(url, { stdin, stdout, stderr: o.tty ? undefined : stderr, tty: o.tty ?? false, resizes: o.resizes, onReady: o.onReady });
  done.catch(() => undefined);
  return { stdout, stderr, done };
}

/** Runs the session at url to its end. */
export async function session(url: string, o: SessionOptions = {}): Promise<Ran> {
  const r = startSession(url, o);
  return { result: await r.done, stdout: r.stdout, stderr: r.stderr };
}

/** An async iterable of sizes the test pushes into while the session runs. */
export class SizeQueue implements AsyncIterable<TerminalSize> {
  #items: TerminalSize[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  push(s: TerminalSize): void {
    this.#items.push(s);
    this.#wake?.();
  }
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<TerminalSize> {
    for (;;) {
      const s = this.#items.shift();
      if (s) {
        yield s;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }
}

/** Polls until check() is true (functional waits only; the deadline is generous). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
