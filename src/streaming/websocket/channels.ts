// The k8s WebSocket channel framing (wsstream): every message starts with its channel (a byte,
// or an ASCII digit with base64 payload), v5 adds a close signal on channel 255. Pure codec.
//
// Channels for remotecommand: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize. For port-forward
// (v4): per requested port i, data 2i and error 2i+1; the server's first message on each carries
// the port as a little-endian uint16.

export type WsCodec = "binary" | "base64";

/** v5 (remotecommand only): `[255, n]` means the peer closed its side of channel n. */
export const CLOSE_CHANNEL = 255;

export interface WsProtocol {
  /** The Sec-WebSocket-Protocol value ("" when the client asked for none). */
  name: string;
  codec: WsCodec;
  /** remotecommand version: 1 (plain-text errors), 4 (JSON Status on the error channel), 5 (+ close signal). */
  version: 1 | 4 | 5;
}

const PROTOCOLS: Record<string, WsProtocol> = {
  "v5.channel.k8s.io": { name: "v5.channel.k8s.io", codec: "binary", version: 5 },
  "v4.channel.k8s.io": { name: "v4.channel.k8s.io", codec: "binary", version: 4 },
  "v4.base64.channel.k8s.io": { name: "v4.base64.channel.k8s.io", codec: "base64", version: 4 },
  "channel.k8s.io": { name: "channel.k8s.io", codec: "binary", version: 1 },
  "base64.channel.k8s.io": { name: "base64.channel.k8s.io", codec: "base64", version: 1 },
  "": { name: "", codec: "binary", version: 1 },
};

/** What each endpoint accepts, as kubelet's streaming library does (port-forward has no v5). */
export const REMOTECOMMAND_WS_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io", ""] as const;
export const PORTFORWARD_WS_PROTOCOLS = ["v4.channel.k8s.io", "v4.base64.channel.k8s.io", ""] as const;

/**
 * The first protocol the client offered that we support (the client's order wins, as in
 * wsstream); no offer means "" (plain binary channels). undefined: nothing in common.
 */
export function negotiateWsProtocol(offered: readonly string[], supported: readonly string[]): WsProtocol | undefined {
  const wanted = offered.length === 0 ? [""] : offered;
  for (const p of wanted) {
    if (supported.includes(p)) return PROTOCOLS[p];
  }
  return undefined;
}

/** Sec-WebSocket-Protocol header value(s) to a list (comma-separated, trimmed, no empties). */
export function parseProtocolHeader(value: string | readonly string[] | undefined): string[] {
  const parts = Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
  return parts.flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s !== "");
}

/** One message for the client: binary frame, or text (digit + base64) for the base64 protocols. */
export function encodeMessage(codec: WsCodec, channel: number, data: Buffer): Buffer | string {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw new RangeError(`channel ${channel} is not 0-255`);
  if (codec === "binary") return Buffer.concat([Buffer.of(channel), data]);
  // '0' + channel, as wsstream writes it (channels past 9 become ':', ';' ...).
  if (channel > 255 - 48) throw new RangeError(`channel ${channel} cannot be written in the base64 protocol`);
  return String.fromCharCode(48 + channel) + data.toString("base64");
}

export type DecodedMessage =
  | { kind: "data"; channel: number; data: Buffer }
  | { kind: "close"; channel: number }
  | { kind: "empty" };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A client message. Empty messages are ignored (as wsstream does). A close signal is only
 * recognised when `closeSignal` (v5). Throws on malformed base64, which a strict peer never sends.
 */
export function decodeMessage(codec: WsCodec, msg: Buffer, closeSignal: boolean): DecodedMessage {
  if (msg.length === 0) return { kind: "empty" };
  let channel = msg[0]!;
  if (codec === "base64") {
    channel -= 48;
    if (channel < 0) throw new Error(`base64 channel message starts with ${JSON.stringify(String.fromCharCode(msg[0]!))}, not a channel digit`);
    const text = msg.subarray(1).toString("latin1");
    if (!BASE64.test(text)) throw new Error(`channel ${channel}: payload is not valid base64`);
    return { kind: "data", channel, data: Buffer.from(text, "base64") };
  }
  if (closeSignal && channel === CLOSE_CHANNEL) {
    if (msg.length < 2) throw new Error("close signal (channel 255) without the channel to close");
    return { kind: "close", channel: msg[1]! };
  }
  return { kind: "data", channel, data: msg.subarray(1) };
}

/** The first message on each port-forward channel: the port, little-endian uint16. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/** Ports per port-forward request: two one-byte channels each, and kubelet asks for a handful. */
export const MAX_FORWARDED_PORTS = 100;

/**
 * Ports of a WebSocket port-forward: the CRI request's, else the URL's `port` query values
 * (repeatable, comma-separated), as kubelet reads them. Throws a message for the client.
 */
export function portsFromQuery(values: readonly string[]): number[] {
  if (values.length === 0) throw new Error(`query parameter "port" is required`);
  const out: number[] = [];
  for (const v of values) {
    if (v === "") throw new Error(`query parameter "port" cannot be empty`);
    for (const p of v.split(",")) {
      if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new Error(`unable to parse ${JSON.stringify(p)} as a port (1-65535)`);
      out.push(Number(p));
    }
  }
  if (out.length > MAX_FORWARDED_PORTS) throw new Error(`${out.length} ports asked for; at most ${MAX_FORWARDED_PORTS}`);
  return out;
}
