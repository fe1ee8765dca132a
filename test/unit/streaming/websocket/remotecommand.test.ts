// exec-style sessions over a real WebSocket (ws client): stdin to the backend and its output
// back on the right channels, the v5 close signal ending stdin, resizes, the final Status per
// protocol version, and a client that vanishes turning into the session's "gone".
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { test, type TestContext } from "node:test";
import { WebSocket } from "ws";
import type { RemoteCommandSession, SessionResult } from "../../../../src/streaming/remotecommand/session.js";
import { WsChannels } from "../../../../src/streaming/websocket/channel-streams.js";
import { REMOTECOMMAND_WS_PROTOCOLS } from "../../../../src/streaming/websocket/channels.js";
import { remoteCommandChannels, WsRemoteCommandSession, type WsSessionOptions } from "../../../../src/streaming/websocket/remotecommand.js";
import { acceptWebSocket } from "../../../../src/streaming/websocket/upgrade.js";

async function serve(t: TestContext, o: WsSessionOptions, backend: (s: RemoteCommandSession) => Promise<SessionResult>): Promise<{ url: string; sessions: RemoteCommandSession[] }> {
  const sessions: RemoteCommandSession[] = [];
  const http = createServer();
  http.on("upgrade", async (req, socket, head) => {
    const up = await acceptWebSocket(req, socket, head, REMOTECOMMAND_WS_PROTOCOLS);
    if (!up) return;
    const s = new WsRemoteCommandSession(new WsChannels(up.ws, up.protocol, remoteCommandChannels(o)), o);
    sessions.push(s);
    await s.finish(await backend(s));
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  t.after(() => http.close());
  return { url: `ws://127.0.0.1:${(http.address() as { port: number }).port}/exec/tok`, sessions };
}

/** Echoes stdin to stdout (upper-cased) and "err" to stderr; exits 3 at stdin's end. */
const echo = async (s: RemoteCommandSession): Promise<SessionResult> => {
  s.stderr?.write("err");
  for await (const c of s.stdin!) s.stdout!.write(String(c).toUpperCase());
  return { exitCode: 3 };
};

function collect(ws: WebSocket): Map<number, Buffer[]> {
  const m = new Map<number, Buffer[]>();
  ws.on("message", (d: Buffer) => m.set(d[0]!, [...(m.get(d[0]!) ?? []), d.subarray(1)]));
  return m;
}
const text = (m: Map<number, Buffer[]>, ch: number) => Buffer.concat(m.get(ch) ?? []).toString();

test("v5: stdin, the close signal ends it, stdout/stderr, then a NonZeroExitCode Status", async (t) => {
  const { url } = await serve(t, { stdin: true, stdout: true, stderr: true, tty: false }, echo);
  const ws = new WebSocket(url, ["v5.channel.k8s.io", "v4.channel.k8s.io"]);
  const got = collect(ws);
  await once(ws, "open");
  assert.equal(ws.protocol, "v5.channel.k8s.io");
  ws.send(Buffer.from("\x00hello "));
  ws.send(Buffer.from("\x00world"));
  ws.send(Buffer.from([255, 0]));
  await once(ws, "close");
  assert.equal(text(got, 1), "HELLO WORLD");
  assert.equal(text(got, 2), "err");
  const status = JSON.parse(text(got, 3)) as { status: string; reason: string; details: { causes: Array<{ reason: string; message: string }> } };
  assert.equal(status.status, "Failure");
  assert.equal(status.reason, "NonZeroExitCode");
  assert.deepEqual(status.details.causes, [{ reason: "ExitCode", message: "3" }]);
});

test("v4 base64 with a tty: resizes reach the session; success is a Success Status", async (t) => {
  const { url } = await serve(t, { stdin: false, stdout: true, stderr: false, tty: true }, async (s) => {
    const size = await new Promise((r) => s.events.once("resize", r));
    s.stdout!.write(`size ${JSON.stringify(size)}`);
    return { exitCode: 0 };
  });
  const ws = new WebSocket(url, ["v4.base64.channel.k8s.io"]);
  const got: string[] = [];
  ws.on("message", (d: Buffer) => got.push(d.toString()));
  await once(ws, "open");
  ws.send("4" + Buffer.from('{"Width":80,"Height":').toString("base64"));
  ws.send("4" + Buffer.from("24}\n").toString("base64"));
  await once(ws, "close");
  const out = got.filter((g) => g[0] === "1").map((g) => Buffer.from(g.slice(1), "base64").toString()).join("");
  assert.equal(out, 'size {"width":80,"height":24}');
  assert.deepEqual(JSON.parse(got.filter((g) => g[0] === "3").map((g) => Buffer.from(g.slice(1), "base64").toString()).join("")), { metadata: {}, status: "Success" });
});

test("channel.k8s.io (v1): the error channel carries plain text", async (t) => {
  const { url } = await serve(t, { stdin: false, stdout: true, stderr: false, tty: false }, async () => ({ error: "no such container" }));
  const ws = new WebSocket(url, ["channel.k8s.io"]);
  const got = collect(ws);
  await once(ws, "close");
  assert.equal(text(got, 3), "no such container");
  assert.deepEqual(got.get(1)?.[0], Buffer.alloc(0), "an empty hello on stdout first");
});

test("a client that vanishes mid-session makes the session gone", async (t) => {
  let gone!: () => void;
  const wentAway = new Promise<void>((r) => (gone = r));
  await serve(t, { stdin: true, stdout: true, stderr: false, tty: false }, async (s) => {
    s.events.once("gone", gone);
    await wentAway;
    assert.ok(s.isGone);
    return { exitCode: 0 };
  }).then(async ({ url }) => {
    const ws = new WebSocket(url, ["v4.channel.k8s.io"]);
    await once(ws, "open");
    ws.terminate();
  });
  await wentAway;
});

test("hostile clients: malformed base64 closes with 1007, a message over 1 MiB with 1009; both end the session", async (t) => {
  const gone: string[] = [];
  const { url } = await serve(t, { stdin: true, stdout: true, stderr: false, tty: false }, async (s) => {
    await new Promise<void>((res) => s.events.once("gone", res));
    gone.push("gone");
    return { exitCode: 0 };
  });
  const bad = new WebSocket(url, ["v4.base64.channel.k8s.io"]);
  await once(bad, "open");
  bad.send("0not*base64");
  const [code1] = (await once(bad, "close")) as [number];
  assert.equal(code1, 1007);
  const big = new WebSocket(url, ["v4.channel.k8s.io"]);
  await once(big, "open");
  big.send(Buffer.alloc(2 << 20));
  const [code2] = (await once(big, "close")) as [number];
  assert.equal(code2, 1009);
  for (let i = 0; i < 100 && gone.length < 2; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(gone.length, 2);
});
