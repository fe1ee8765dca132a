// The server-streaming wrapper: a write waits for 'drain' when the transport is full, a cancel
// ends the handler's writes, errors become the call's gRPC status, success ends the call.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { status, type ServerWritableStream } from "@grpc/grpc-js";
import { BerthError, Code } from "../../../src/errors.js";
import { serverStream, writeChunks, type StreamOut } from "../../../src/server/stream.js";
import { setLogLevel } from "../../../src/util/log.js";

setLogLevel("silent");

class FakeCall extends EventEmitter {
  request = {};
  written: unknown[] = [];
  full = false;
  ended = false;
  error: { code: number; details: string } | undefined;
  headers = 0;
  constructor() {
    super();
    this.on("error", (e: { code: number; details: string }) => (this.error = e));
  }
  write(m: unknown): boolean {
    this.written.push(m);
    return !this.full;
  }
  end(): void {
    this.ended = true;
  }
  sendMetadata(): void {
    this.headers++;
  }
  getDeadline(): number {
    return Infinity;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function start(fn: (out: StreamOut<number>) => Promise<void>): { call: FakeCall; done: Promise<void> } {
  const call = new FakeCall();
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const handler = serverStream<object, number>("Test", async (_req, out) => {
    try {
      await fn(out);
    } finally {
      setImmediate(finish);
    }
  });
  handler(call as unknown as ServerWritableStream<object, number>);
  return { call, done };
}

test("a full transport holds the next write until 'drain'; the call then ends OK", async () => {
  let second = false;
  const { call, done } = start(async (out) => {
    out.ready();
    await out.write(1);
    await out.write(2);
    second = true;
  });
  call.full = true;
  await tick();
  assert.deepEqual(call.written, [1]);
  assert.equal(second, false, "waits for drain");
  call.full = false;
  call.emit("drain");
  await done;
  await tick();
  assert.deepEqual([call.written, call.ended, call.headers, call.error], [[1, 2], true, 1, undefined]);
});

test("a cancel rejects the pending write; nothing more is written or ended", async () => {
  let caught: unknown;
  const { call, done } = start(async (out) => {
    try {
      await out.write(1);
      await out.write(2);
    } catch (err) {
      caught = err;
      throw err;
    }
  });
  call.full = true;
  await tick();
  call.emit("cancelled");
  await done;
  await tick();
  assert.ok(caught instanceof BerthError && caught.code === Code.CANCELLED);
  assert.deepEqual([call.written, call.ended, call.error], [[1], false, undefined]);
});

test("a BerthError becomes the call's status; an unexpected throw is INTERNAL", async () => {
  const a = start(async () => {
    throw new BerthError(Code.RESOURCE_EXHAUSTED, "fell behind");
  });
  await a.done;
  await tick();
  assert.deepEqual(a.call.error, { code: status.RESOURCE_EXHAUSTED, details: "fell behind" });
  const b = start(async () => {
    throw new Error("boom");
  });
  await b.done;
  await tick();
  assert.equal(b.call.error?.code, status.INTERNAL);
  assert.match(b.call.error?.details ?? "", /Test: boom/);
});

test("writeChunks sends every item once, in messages of the given size", async () => {
  const sent: number[][] = [];
  await writeChunks({ write: async (m: number[]) => void sent.push(m), ready: () => undefined }, [1, 2, 3, 4, 5], (c) => c, 2);
  assert.deepEqual(sent, [[1, 2], [3, 4], [5]]);
});
