// The HTTP side of a streaming upgrade: X-Stream-Protocol-Version negotiation as kubelet's
// httpstream.Handshake does it (missing: 400, no match: 403), plain HTTP errors, and the 101 reply.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

export const PROTOCOL_HEADER = "x-stream-protocol-version";

/** The client's protocols in its order (repeated headers and comma lists both count). */
export function clientProtocols(req: IncomingMessage): string[] {
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() !== PROTOCOL_HEADER) continue;
    for (const p of (req.rawHeaders[i + 1] ?? "").split(",")) if (p.trim()) out.push(p.trim());
  }
  return out;
}

export type Negotiation = { ok: true; protocol: string } | { ok: false; status: 400 | 403; message: string; headers: Record<string, string> };

/** The first protocol the client asked for that the server speaks. */
export function negotiate(req: IncomingMessage, supported: readonly string[]): Negotiation {
  const wanted = clientProtocols(req);
  if (wanted.length === 0) {
    return { ok: false, status: 400, message: `missing ${PROTOCOL_HEADER} header; supported: ${supported.join(", ")}`, headers: {} };
  }
  const chosen = wanted.find((p) => supported.includes(p));
  if (chosen) return { ok: true, protocol: chosen };
  return {
    ok: false,
    status: 403,
    message: `none of the requested protocols (${wanted.join(", ")}) is supported; supported: ${supported.join(", ")}`,
    headers: { "X-Accepted-Stream-Protocol-Versions": supported.join(", ") },
  };
}

const REASONS: Record<number, string> = { 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable", 500: "Internal Server Error" };

/** A complete HTTP/1.1 error response on a raw (upgrade) socket, then the socket is ended. */
export function writeHttpError(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = message ? `${message}\n` : "";
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}`, "Content-Type: text/plain; charset=utf-8", `Content-Length: ${Buffer.byteLength(body)}`, "Connection: close"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  socket.end(lines.join("\r\n") + "\r\n\r\n" + body);
}

/** 101 Switching Protocols for a SPDY/3.1 upgrade with the negotiated protocol. */
export function acceptSpdyUpgrade(socket: Duplex, protocol: string): void {
  socket.write(["HTTP/1.1 101 Switching Protocols", "Connection: Upgrade", "Upgrade: SPDY/3.1", `X-Stream-Protocol-Version: ${protocol}`, "", ""].join("\r\n"));
}

/** Whether the request asks for SPDY/3.1 (else it may be a WebSocket upgrade). */
export function wantsSpdy(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? "").toLowerCase().split(",").some((u) => u.trim() === "spdy/3.1");
}
