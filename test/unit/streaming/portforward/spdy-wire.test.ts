// port-forward over real SPDY frames on loopback: Berth's own client (what `berth port-forward`
// runs) against the server-side pairing, with the SPDY connection in both roles. Several
// connections at once on one upgraded connection, and a refused port reported to the client.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { test, type TestContext } from "node:test";
import { startPortForward } from "../../../../src/cli/stream/port-forward.js";
import { SpdyPortForward } from "../../../../src/streaming/portforward/spdy.js";
import { SpdyConnection } from "../../../../src/streaming/spdy/connection.js";

async function spdyServer(t: TestContext): Promise<{ url: string; connections: () => number }> {
  let live = 0;
  const http = createHttpServer();
  http.on("upgrade", (req, socket: Socket, head: Buffer) => {
    assert.equal(req.headers["x-stream-protocol-version"], "portforward.k8s.io");
    socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n");
    const conn = new SpdyConnection(socket, { server: true, head });
    live++;
    const pf = new SpdyPortForward({
      podName: "pod1",
      dial: (port) =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
          s.once("connect", () => resolve(s)).once("error", reject);
        }),
    });
    conn.on("stream", (s) => pf.accept(s));
    conn.once("close", () => {
      live--;
      pf.close();
    });
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  t.after(() => http.close());
  return { url: `http://127.0.0.1:${(http.address() as { port: number }).port}/portforward/tok`, connections: () => live };
}

async function upperServer(t: TestContext): Promise<number> {
  const s = createServer({ allowHalfOpen: true }, (c) => {
    let all = "";
    c.setEncoding("utf8").on("data", (d: string) => (all += d));
    c.on("end", () => c.end(all.toUpperCase()));
  }).listen(0, "127.0.0.1");
  await once(s, "listening");
  t.after(() => s.close());
  return (s.address() as { port: number }).port;
}

async function roundTrip(port: number, msg: string): Promise<string> {
  const c = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  await once(c, "connect");
  let got = "";
  c.setEncoding("utf8").on("data", (d: string) => (got += d));
  c.end(msg);
  await once(c, "close");
  return got;
}

test("berth's client forwards many connections at once over one SPDY connection", async (t) => {
  const { url, connections } = await spdyServer(t);
  const remote = await upperServer(t);
  const lines: string[] = [];
  const pf = await startPortForward(url, [{ local: 0, remote }], "127.0.0.1", (l) => lines.push(l));
  const local = pf.listening[0]!.local;
  assert.match(lines[0]!, new RegExp(`^Forwarding from 127.0.0.1:${local} -> ${remote}$`));
  const big = "x".repeat(300_000);
  const replies = await Promise.all([...Array.from({ length: 10 }, (_, i) => roundTrip(local, `conn-${i}`)), roundTrip(local, big)]);
  for (let i = 0; i < 10; i++) assert.equal(replies[i], `CONN-${i}`);
  assert.equal(replies[10], big.toUpperCase(), "half-close: the server answers after our FIN");
  assert.equal(connections(), 1, "one upgraded connection carried them all");
  pf.stop();
  await pf.done;
});

test("a refused port: the client logs the runtime's message, closes that connection, keeps forwarding", async (t) => {
  const { url } = await spdyServer(t);
  const remote = await upperServer(t);
  const closed = createServer().listen(0, "127.0.0.1");
  await once(closed, "listening");
  const refused = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  const lines: string[] = [];
  const pf = await startPortForward(url, [{ local: 0, remote: refused }, { local: 0, remote }], "127.0.0.1", (l) => lines.push(l));
  assert.equal(await roundTrip(pf.listening[0]!.local, "hello"), "");
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(lines.some((l) => l.includes(`-> ${refused}: error forwarding port ${refused} to pod pod1, uid : connect ECONNREFUSED`)), lines.join("\n"));
  assert.equal(await roundTrip(pf.listening[1]!.local, "still"), "STILL");
  pf.stop();
  await pf.done;
});
