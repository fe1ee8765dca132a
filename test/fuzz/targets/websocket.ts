// Fuzz target: WebSocket streaming clients (src/streaming/websocket): raw frames through ws's
// Receiver as Berth's server configures it, each message through the channel decoder of every
// subprotocol, resize payloads through the resize decoder; and the handshake's protocol and port values.
import { createRequire } from "node:module";
import type { Writable } from "node:stream";
import { ResizeDecoder } from "../../../src/streaming/remotecommand/resize.js";
import { MAX_WS_MESSAGE } from "../../../src/streaming/websocket/upgrade.js";
import {
  MAX_FORWARDED_PORTS,
  PORTFORWARD_WS_PROTOCOLS,
  REMOTECOMMAND_WS_PROTOCOLS,
  decodeMessage,
  negotiateWsProtocol,
  parseProtocolHeader,
  portsFromQuery,
  type WsCodec,
} from "../../../src/streaming/websocket/channels.js";
import { chunks, holds, parseOrRefuse, split } from "../check.js";

// ws's frame parser (a Writable; emits "message", "ping", "pong", "conclude", "error").
type Receiver = Pick<Writable, "write"> & { on(event: string, fn: (...args: never[]) => void): unknown };
type ReceiverClass = new (o: { isServer: boolean; maxPayload: number; binaryType: string; extensions: object }) => Receiver;
const ReceiverCtor = (createRequire(import.meta.url)("ws") as { Receiver: ReceiverClass }).Receiver;

const CODECS: readonly [WsCodec, boolean][] = [["binary", false], ["binary", true], ["base64", false]];

function handshake(text: string): void {
  const offered = parseProtocolHeader(text.split("\n"));
  holds(offered.every((p) => p !== "" && p.trim() === p && !p.includes(",")), `protocol list ${JSON.stringify(offered)}`);
  for (const supported of [REMOTECOMMAND_WS_PROTOCOLS, PORTFORWARD_WS_PROTOCOLS]) {
    const p = negotiateWsProtocol(offered, supported);
    if (p) holds(supported.includes(p.name as never), `negotiated ${p.name}, which is not offered by the server`);
  }
  const ports = parseOrRefuse(() => portsFromQuery(text.split("&")), [Error]);
  if (ports) holds(ports.length <= MAX_FORWARDED_PORTS && ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535), `ports ${JSON.stringify(ports)}`);
}

// Async so the event loop turns between inputs: ws ends and destroys its receiver through
// process.nextTick, which a synchronous fuzz loop never runs (2 GB of queued ticks after 400k runs).
export async function fuzz(data: Buffer): Promise<void> {
  const { sel, rest } = split(data);
  if (sel & 0x80) return handshake(rest.toString("utf8"));
  const [codec, v5] = CODECS[sel % CODECS.length]!;
  const resize = new ResizeDecoder();
  let errored = false;
  const r = new ReceiverCtor({ isServer: true, maxPayload: MAX_WS_MESSAGE, binaryType: "nodebuffer", extensions: {} });
  r.on("message", (raw: Buffer | Buffer[], _isBinary: boolean) => {
    const msg = Array.isArray(raw) ? Buffer.concat(raw) : raw;
    holds(msg.length <= MAX_WS_MESSAGE && msg.length <= rest.length, `a ${msg.length}-byte message from ${rest.length} bytes`);
    const m = parseOrRefuse(() => decodeMessage(codec, msg, v5), [Error]);
    if (m?.kind === "data") {
      holds(m.channel >= 0 && m.channel <= 255 && m.data.length <= msg.length, `channel ${m.channel}, ${m.data.length} bytes from ${msg.length}`);
      if (m.channel === 4) {
        for (const s of resize.push(m.data)) holds(s.width >= 0 && s.width <= 65535 && s.height >= 0 && s.height <= 65535, `resize ${JSON.stringify(s)}`);
      }
    }
  });
  r.on("error", (err: Error & { code?: string }) => {
    // ws refuses a bad frame with its own coded error, and the socket is closed.
    holds(typeof err.code === "string" && err.code.startsWith("WS_ERR_"), `ws failed with ${err.name}: ${err.message}`);
    errored = true;
  });
  r.on("ping", () => undefined);
  r.on("pong", () => undefined);
  // After a close frame ws stops reading the socket (the receiver has ended).
  let concluded = false;
  r.on("conclude", () => {
    concluded = true;
  });
  for (const c of chunks(rest, sel >> 2)) {
    if (errored || concluded) break;
    r.write(c);
  }
  await new Promise(setImmediate);
}
