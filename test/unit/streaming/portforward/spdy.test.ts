// The SPDY port-forward pairing with stand-in streams and real loopback sockets: pairs by
// requestid (or by stream id for old clients), refused ports reported on the error stream,
// bad headers and the pair cap refused, half-close passed through.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { test, type TestContext } from "node:test";
import { SpdyPortForward, type PortForwardStream, type PortForwardTarget } from "../../../../src/streaming/portforward/spdy.js";

class FakeStream extends Duplex implements PortForwardStream {
  written: Buffer[] = [];
  replied = false;
  wasReset = false;
  ended = false;
  constructor(readonly id: number, private readonly headers: Record<string, string>) {
    super({ allowHalfOpen: true });
    this.on("error", () => undefined);
  }
  header(name: string): string {
    return this.headers[name] ?? "";
  }
  reply(): Promise<void> {
    this.replied = true;
    return Promise.resolve();
  }
  reset(): void {
    this.wasReset = true;
    this.destroy();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.written.push(chunk);
    cb();
  }
  override _final(cb: () => void): void {
    this.ended = true;
    cb();
  }
  text(): string {
    return Buffer.concat(this.written).toString();
  }
}

async function echoServer(t: TestContext): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (c) => {
    c.write("hello:");
    c.pipe(c);
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  return { server, port: (server.address() as { port: number }).port };
}

const target = (): PortForwardTarget => ({
  podName: "pod1",
  dial: (port) =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
      s.once("connect", () => resolve(s)).once("error", reject);
    }),
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), "condition never became true");
}

test("a pair by requestid is spliced to the port; the client's FIN ends the pod side, the pod's FIN ours", async (t) => {
  const { port } = await echoServer(t);
  const pf = new SpdyPortForward(target());
  const err = new FakeStream(1, { streamtype: "error", port: String(port), requestid: "0" });
  const data = new FakeStream(3, { streamtype: "data", port: String(port), requestid: "0" });
  pf.accept(err);
  assert.equal(pf.size, 1);
  pf.accept(data);
  assert.ok(err.replied && data.replied, "each stream gets its SYN_REPLY");
  data.push("abc");
  data.push(null);
  await until(() => data.ended && err.ended);
  assert.equal(data.text(), "hello:abc");
  assert.equal(err.text(), "", "no error");
  await until(() => pf.size === 0);
});

test("without requestid: error stream id pairs with data stream id - 2", async (t) => {
  const { port } = await echoServer(t);
  const pf = new SpdyPortForward(target());
  const err = new FakeStream(5, { streamtype: "error", port: String(port) });
  const data = new FakeStream(7, { streamtype: "data", port: String(port) });
  pf.accept(err);
  pf.accept(data);
  data.push(null);
  await until(() => data.ended && err.ended);
  assert.equal(data.text(), "hello:");
});

test("a refused port: the message on the error stream, the data stream reset; others keep working", async (t) => {
  const { port } = await echoServer(t);
  const refused = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const pf = new SpdyPortForward({ ...target(), dial: (p) => (p === refused ? Promise.reject(new Error("connect ECONNREFUSED")) : target().dial(p)) });
  const e1 = new FakeStream(1, { streamtype: "error", port: String(refused), requestid: "1" });
  const d1 = new FakeStream(3, { streamtype: "data", port: String(refused), requestid: "1" });
  pf.accept(e1);
  pf.accept(d1);
  await until(() => e1.ended);
  assert.equal(e1.text(), `error forwarding port ${refused} to pod pod1, uid : connect ECONNREFUSED`);
  assert.ok(d1.wasReset);
  const e2 = new FakeStream(5, { streamtype: "error", port: String(port), requestid: "2" });
  const d2 = new FakeStream(7, { streamtype: "data", port: String(port), requestid: "2" });
  pf.accept(e2);
  pf.accept(d2);
  d2.push(null);
  await until(() => d2.ended);
  assert.equal(d2.text(), "hello:");
});

test("bad headers and too many pairs are refused with a reset; a pair that never completes times out", async () => {
  const pf = new SpdyPortForward(target(), { maxPairs: 1, pairTimeoutMs: 50 });
  const bad: Record<string, string>[] = [{ streamtype: "stdin", port: "80" }, { streamtype: "data", port: "0" }, { streamtype: "data", port: "x" }, { streamtype: "data" }];
  for (const h of bad) {
    const s = new FakeStream(1, h);
    pf.accept(s);
    assert.ok(s.wasReset, JSON.stringify(h));
  }
  const e1 = new FakeStream(1, { streamtype: "error", port: "80", requestid: "a" });
  pf.accept(e1);
  const e2 = new FakeStream(3, { streamtype: "error", port: "80", requestid: "b" });
  pf.accept(e2);
  assert.ok(e2.wasReset, "over the cap");
  const dup = new FakeStream(5, { streamtype: "error", port: "80", requestid: "a" });
  pf.accept(dup);
  assert.ok(dup.wasReset, "a second error stream for one request");
  await until(() => e1.ended);
  assert.match(e1.text(), /timed out waiting for streams of request a/);
  assert.equal(pf.size, 0);
});

test("close() resets waiting and running pairs", async (t) => {
  const { port } = await echoServer(t);
  const pf = new SpdyPortForward(target());
  const e = new FakeStream(1, { streamtype: "error", port: String(port), requestid: "0" });
  const d = new FakeStream(3, { streamtype: "data", port: String(port), requestid: "0" });
  pf.accept(e);
  pf.accept(d);
  await until(() => d.written.length > 0);
  pf.close();
  assert.ok(d.wasReset && e.wasReset);
  const late = new FakeStream(5, { streamtype: "error", port: String(port), requestid: "1" });
  pf.accept(late);
  assert.ok(late.wasReset, "nothing is accepted after close");
});
