// port-forward over a real WebSocket (ws client, HTTP upgrade on loopback) to loopback
// listeners: the port prefix on both channels, data both ways, a refused port's error text,
// binary and base64 protocols, an unsupported protocol refused.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { test, type TestContext } from "node:test";
import { WebSocket } from "ws";
import { WsChannels } from "../../../../src/streaming/websocket/channel-streams.js";
import { PORTFORWARD_WS_PROTOCOLS } from "../../../../src/streaming/websocket/channels.js";
import { acceptWebSocket } from "../../../../src/streaming/websocket/upgrade.js";
import { portForwardChannels, portForwardOverWebSocket } from "../../../../src/streaming/portforward/websocket.js";

async function server(t: TestContext, ports: number[]): Promise<string> {
  const http = createHttpServer();
  http.on("upgrade", async (req, socket, head) => {
    const up = await acceptWebSocket(req, socket, head, PORTFORWARD_WS_PROTOCOLS);
    if (!up) return;
    const ch = new WsChannels(up.ws, up.protocol, portForwardChannels(ports.length));
    await portForwardOverWebSocket(ch, ports, {
      podName: "pod1",
      dial: (port) =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
          s.once("connect", () => resolve(s)).once("error", reject);
        }),
    });
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  t.after(() => http.close());
  return `ws://127.0.0.1:${(http.address() as { port: number }).port}/portforward/x`;
}

async function listener(t: TestContext, greeting: string): Promise<number> {
  const s = createServer((c) => {
    c.write(greeting);
    c.on("data", (d) => c.end(`got ${d}`));
  }).listen(0, "127.0.0.1");
  await once(s, "listening");
  t.after(() => s.close());
  return (s.address() as { port: number }).port;
}

async function closedPort(): Promise<number> {
  const s = createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

test("binary v4: per port a data and an error channel, each starting with the port", async (t) => {
  const [p1, p2, bad] = [await listener(t, "one;"), await listener(t, "two;"), await closedPort()];
  const url = await server(t, [p1, p2, bad]);
  const ws = new WebSocket(url, ["v4.channel.k8s.io"]);
  const byChannel = new Map<number, Buffer[]>();
  ws.on("message", (m: Buffer) => {
    const list = byChannel.get(m[0]!) ?? [];
    list.push(m.subarray(1));
    byChannel.set(m[0]!, list);
    // Once the greeting arrived on a data channel, answer it.
    if ((m[0] === 0 || m[0] === 2) && m.length > 3) ws.send(Buffer.concat([Buffer.of(m[0]), Buffer.from("ping")]));
  });
  await once(ws, "open");
  assert.equal(ws.protocol, "v4.channel.k8s.io");
  await once(ws, "close");
  const text = (ch: number) => Buffer.concat((byChannel.get(ch) ?? []).slice(1)).toString();
  for (const [i, port] of [p1, p2, bad].entries()) {
    assert.deepEqual(byChannel.get(2 * i)?.[0], Buffer.from([port & 0xff, port >> 8]), `data channel ${2 * i} starts with the port`);
    assert.deepEqual(byChannel.get(2 * i + 1)?.[0], Buffer.from([port & 0xff, port >> 8]));
  }
  assert.equal(text(0), "one;got ping");
  assert.equal(text(2), "two;got ping");
  assert.equal(text(1), "");
  assert.match(text(5), new RegExp(`^error forwarding port ${bad} to pod pod1, uid : connect ECONNREFUSED`));
});

test("base64 v4: text messages, digit channel", async (t) => {
  const port = await listener(t, "b64;");
  const url = await server(t, [port]);
  const ws = new WebSocket(url, ["v4.base64.channel.k8s.io"]);
  const got: string[] = [];
  ws.on("message", (m: Buffer, isBinary: boolean) => {
    assert.equal(isBinary, false);
    got.push(m.toString());
    if (m.toString().startsWith("0") && got.filter((g) => g.startsWith("0")).length === 2) ws.send("0" + Buffer.from("hi").toString("base64"));
  });
  await once(ws, "close");
  const data = got.filter((g) => g[0] === "0").map((g) => Buffer.from(g.slice(1), "base64"));
  assert.deepEqual(data[0], Buffer.from([port & 0xff, port >> 8]));
  assert.equal(Buffer.concat(data.slice(1)).toString(), "b64;got hi");
});

test("an unsupported subprotocol gets 400 naming the supported ones", async (t) => {
  const url = await server(t, [1]);
  const ws = new WebSocket(url, ["v5.channel.k8s.io"]);
  const [, res] = (await once(ws, "unexpected-response")) as [unknown, import("node:http").IncomingMessage];
  assert.equal(res.statusCode, 400);
  let body = "";
  for await (const c of res) body += c;
  assert.match(body, /not supported; supported: \["v4.channel.k8s.io","v4.base64.channel.k8s.io"\]/);
});
