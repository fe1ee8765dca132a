// SpdyConnection as server and client over an in-memory socket pair: stream set-up, data and
// half-close both ways, PING, RST, limits, and hostile peers (garbage, never reading).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { duplexPair, type Duplex } from "node:stream";
import { once } from "node:events";
import { deflateSync } from "node:zlib";
import { SpdyConnection, type SpdyConnectionOptions } from "../../../src/streaming/spdy/connection.js";
import { SPDY3_DICTIONARY } from "../../../src/streaming/spdy/dictionary.js";
import { encodeHeaderBlock } from "../../../src/streaming/spdy/header-block.js";
import { dataFrame, synStreamFrame } from "../../../src/streaming/spdy/frames.js";
import type { SpdyStream } from "../../../src/streaming/spdy/stream.js";

function pair(t: TestContext, serverOpts: Partial<SpdyConnectionOptions> = {}): { server: SpdyConnection; client: SpdyConnection } {
  const [a, b] = duplexPair();
  const server = new SpdyConnection(a, { server: true, ...serverOpts });
  const client = new SpdyConnection(b, { server: false });
  t.after(() => {
    client.destroy();
    server.destroy();
  });
  return { server, client };
}

async function readAll(s: SpdyStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test("a client stream gets its headers across, a SYN_REPLY back, and data with half-close both ways", async (t) => {
  const { server, client } = pair(t);
  server.on("stream", (s) => {
    assert.equal(s.header("streamtype"), "stdin");
    assert.equal(s.id, 1);
    void s.reply({ answer: "yes" });
    void readAll(s).then((got) => {
      s.end(Buffer.concat([Buffer.from("echo:"), got]));
    });
  });
  const s = await client.openStream({ StreamType: "stdin" });
  assert.equal(s.header("answer"), "yes");
  s.end("ping");
  assert.equal((await readAll(s)).toString(), "echo:ping");
  // Closed both ways: both tables forget it.
  await new Promise((r) => setImmediate(r));
  assert.equal(client.streamCount, 0);
  assert.equal(server.streamCount, 0);
});

test("several streams share the connection's zlib contexts and keep their order", async (t) => {
  const { server, client } = pair(t);
  const seen: string[] = [];
  server.on("stream", (s) => {
    seen.push(s.header("streamtype"));
    void s.reply();
  });
  const names = ["error", "stdin", "stdout", "stderr", "resize"];
  const streams = await Promise.all(names.map((n) => client.openStream({ streamtype: n })));
  assert.deepEqual(seen, names);
  assert.deepEqual(streams.map((s) => s.id), [1, 3, 5, 7, 9]);
});

test("PING is echoed by the peer", async (t) => {
  const { client, server } = pair(t);
  assert.ok((await client.ping()) >= 0);
  assert.ok((await server.ping()) >= 0);
});

test("4 MiB each way arrive intact (frames split at the data-frame cap)", async (t) => {
  const { server, client } = pair(t);
  const payload = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  server.on("stream", (s) => {
    void s.reply();
    s.pipe(s);
  });
  const s = await client.openStream({ streamtype: "data" });
  const back = readAll(s);
  s.end(payload);
  assert.ok((await back).equals(payload));
});

test("a peer's RST_STREAM destroys the stream quietly and rejects a pending open", async (t) => {
  const { server, client } = pair(t);
  let first = true;
  server.on("stream", (s) => {
    if (first) {
      first = false;
      void s.reply();
      setImmediate(() => s.reset(5));
    } else s.reset(3);
  });
  const s = await client.openStream({ streamtype: "x" });
  await once(s, "close");
  assert.equal(s.resetStatus, 5);
  await assert.rejects(client.openStream({ streamtype: "y" }), /reset by the peer \(status 3\)/);
});

test("streams beyond maxStreams are refused", async (t) => {
  const { server, client } = pair(t, { limits: { maxStreams: 2 } });
  server.on("stream", (s) => void s.reply());
  await client.openStream({ n: "1" });
  await client.openStream({ n: "2" });
  await assert.rejects(client.openStream({ n: "3" }), /status 3/);
});

test("a server without a stream listener refuses streams", async (t) => {
  const { client } = pair(t);
  await assert.rejects(client.openStream({ n: "1" }), /status 3/);
});

test("garbage bytes end the connection with GOAWAY(PROTOCOL_ERROR) and destroy its streams", async (t) => {
  const [a, b] = duplexPair();
  const server = new SpdyConnection(a, { server: true });
  t.after(() => server.destroy());
  const errors: Error[] = [];
  server.on("protocolError", (e) => errors.push(e));
  const got: Buffer[] = [];
  b.on("data", (d: Buffer) => got.push(d));
  b.write(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
  await once(server, "close");
  assert.match(errors[0]?.message ?? "", /DATA for stream 1195725856, which was never opened/);
  assert.equal(Buffer.concat(got).toString("hex"), "8003000700000008" + "00000000" + "00000001");
  b.destroy();
});

test("a corrupt header block is a protocol error", async (t) => {
  const [a, b] = duplexPair();
  const server = new SpdyConnection(a, { server: true });
  t.after(() => server.destroy());
  server.on("stream", () => assert.fail("no stream from a corrupt block"));
  const errors: Error[] = [];
  server.on("protocolError", (e) => errors.push(e));
  b.write(synStreamFrame(1, Buffer.from("not zlib at all")));
  await once(server, "close");
  assert.match(errors[0]?.message ?? "", /header block/);
  b.destroy();
});

test("hand-built frames from a raw peer: SYN_STREAM then DATA with FIN reach the stream", async (t) => {
  const [a, b] = duplexPair();
  const server = new SpdyConnection(a, { server: true, head: Buffer.alloc(0) });
  t.after(() => {
    server.destroy();
    b.destroy();
  });
  const block = deflateSync(encodeHeaderBlock({ streamtype: "stdin" }), { dictionary: SPDY3_DICTIONARY, finishFlush: 2 });
  const streamP = once(server, "stream");
  b.write(Buffer.concat([synStreamFrame(1, block), dataFrame(1, Buffer.from("abc"), true)]));
  const [s] = (await streamP) as [SpdyStream];
  assert.equal(s.header("streamtype"), "stdin");
  assert.equal((await readAll(s)).toString(), "abc");
  // The reply on the wire: SYN_REPLY for stream 1 with a compressed (empty) block.
  const reply = once(b, "data");
  await s.reply();
  const [frame] = (await reply) as [Buffer];
  assert.equal(frame.subarray(0, 4).toString("hex"), "80030002");
  assert.equal(frame.readUInt32BE(8), 1);
});

test("a consumer that never reads holds the sender back: buffered bytes stay bounded", async (t) => {
  const hwm = 64 * 1024;
  const { server, client } = pair(t, { limits: { streamHighWaterMark: hwm } });
  let idle: SpdyStream | undefined;
  server.on("stream", (s) => {
    idle = s;
    void s.reply();
  });
  const s = await client.openStream({ streamtype: "stdin" });
  const chunk = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  // Write until the stream pushes back, then a bit more: nothing drains on the other side.
  for (let i = 0; i < 400 && written < 32 * 1024 * 1024; i++) {
    s.write(chunk);
    written += chunk.length;
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(idle);
  // The server holds at most its high-water mark plus a frame; the rest waits in the sender (bounded by its own HWM).
  assert.ok(idle.readableLength <= hwm + 2 * 64 * 1024, `server buffered ${idle.readableLength}`);
  assert.ok(s.writableLength > 0, "the client's writes are held back");
  // Once the consumer reads, everything flows.
  let got = 0;
  idle.on("data", (d: Buffer) => (got += d.length));
  s.end();
  await once(idle, "end");
  assert.equal(got, written);
});

test("closing after the last write still delivers everything to the peer's streams", async (t) => {
  const { server, client } = pair(t);
  server.on("stream", (s) => {
    void s.reply();
    s.end("last words");
    server.close();
  });
  const s = await client.openStream({ streamtype: "stdout" });
  await once(client, "close");
  assert.equal((await readAll(s)).toString(), "last words");
});

test("the peer vanishing destroys every open stream without error events", async (t) => {
  const [a, b]: [Duplex, Duplex] = duplexPair();
  const server = new SpdyConnection(a, { server: true });
  const client = new SpdyConnection(b, { server: false });
  t.after(() => server.destroy());
  let serverStream: SpdyStream | undefined;
  server.on("stream", (s) => {
    serverStream = s;
    void s.reply();
  });
  await client.openStream({ streamtype: "stdin" });
  client.destroy();
  await once(server, "close");
  assert.ok(serverStream?.destroyed);
});

test("a control frame of another SPDY version is a protocol error", async (t) => {
  const [a, b] = duplexPair();
  const server = new SpdyConnection(a, { server: true });
  t.after(() => server.destroy());
  const errors: Error[] = [];
  server.on("protocolError", (e) => errors.push(e));
  b.write(Buffer.from("8002000600000004" + "00000001", "hex"));
  await once(server, "close");
  assert.match(errors[0]?.message ?? "", /unsupported SPDY version 2/);
  b.destroy();
});
