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

/** Runs the session at url with our own client; stdin from a string/Buffer/stream when given. */
export async function session(url: string, o: { stdin?: string | Buffer | Readable; tty?: boolean; resizes?: AsyncIterable<TerminalSize>; onReady?: RemoteCommandClientOptions["onReady"] } = {}): Promise<Ran> {
  const stdout = new Collect();
  const stderr = new Collect();
  let stdin: Readable | undefined;
  if (o.stdin instanceof Readable) stdin = o.stdin;
  else if (o.stdin !== undefined) {
    const p = new PassThrough();
    p.end(o.stdin);
    stdin = p;
  }
  const result = await runRemoteCommand(url, { stdin, stdout, stderr: o.tty ? undefined : stderr, tty: o.tty ?? false, resizes: o.resizes, onReady: o.onReady });
  return { result, stdout, stderr };
}
