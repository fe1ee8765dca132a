// Accepts a k8s WebSocket upgrade on the streaming server's URLs (`Upgrade: websocket` on the
// same /exec, /attach, /portforward paths as SPDY): subprotocol negotiation and a payload cap.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { createRequire } from "node:module";
import type { WebSocket, WebSocketServer } from "ws";
import { negotiateWsProtocol, parseProtocolHeader, type WsProtocol } from "./channels.js";

/** Largest client message: stdin chunks and port-forward data are far smaller. */
export const MAX_WS_MESSAGE = 1 << 20;

/** True for a WebSocket handshake (Upgrade: websocket, Connection includes upgrade), as wsstream checks. */
export function isWebSocketRequest(req: IncomingMessage): boolean {
  const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
  const connection = String(req.headers.connection ?? "").toLowerCase();
  return upgrade === "websocket" && /(^|,)\s*upgrade\s*(,|$)/.test(connection);
}

/** The subprotocol chosen for a request in flight (ws would take the client's first offer). */
const chosen = new WeakMap<IncomingMessage, string>();

// ws is loaded, and its server made, on the first WebSocket upgrade, not with the daemon.
let server: WebSocketServer | undefined;
const wss = (): WebSocketServer => (server ??= new (createRequire(import.meta.url)("ws") as typeof import("ws")).WebSocketServer({
  noServer: true,
  maxPayload: MAX_WS_MESSAGE,
  perMessageDeflate: false,
  clientTracking: false,
  handleProtocols: (_offered, req) => chosen.get(req) || false,
}));

/**
 * Completes the handshake with the first supported subprotocol the client offered. On no
 * match, answers 400 naming what is supported and resolves undefined (socket ended).
 */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  supported: readonly string[],
): Promise<{ ws: WebSocket; protocol: WsProtocol } | undefined> {
  const offered = parseProtocolHeader(req.headers["sec-websocket-protocol"]);
  const protocol = negotiateWsProtocol(offered, supported);
  if (!protocol) {
    const body = `requested WebSocket protocol(s) ${JSON.stringify(offered)} are not supported; supported: ${JSON.stringify(supported.filter((s) => s !== ""))}\n`;
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    return Promise.resolve(undefined);
  }
  chosen.set(req, protocol.name);
  return new Promise((resolve) => {
    // ws answers a broken handshake (bad key or version) with 400 itself and never calls back.
    socket.once("close", () => resolve(undefined));
    wss().handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", () => undefined);
      resolve({ ws, protocol });
    });
  });
}
