// Serves one upgraded port-forward connection, SPDY or WebSocket, into a pod: the route the
// streaming server calls for /portforward/<token> once the token is redeemed.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { logger } from "../../util/log.js";
import type { SpdyConnection } from "../spdy/connection.js";
import { WsChannels } from "../websocket/channel-streams.js";
import { PORTFORWARD_WS_PROTOCOLS, portsFromQuery } from "../websocket/channels.js";
import { acceptWebSocket } from "../websocket/upgrade.js";
import type { PortForwardSessionTarget } from "./pods.js";
import { SpdyPortForward, type SpdyPortForwardOptions } from "./spdy.js";
import { portForwardChannels, portForwardOverWebSocket } from "./websocket.js";

const log = logger("port-forward");

/** SPDY: every stream the client opens is a half of a forwarded connection; ends with the connection. */
export function servePortForwardSpdy(conn: SpdyConnection, target: PortForwardSessionTarget, opts: SpdyPortForwardOptions = {}): Promise<void> {
  const pf = new SpdyPortForward(target, opts);
  conn.on("stream", (s) => pf.accept(s));
  return new Promise((resolve) => {
    const done = () => {
      pf.close();
      target.release();
      log.debug({ pod: target.podName }, "port-forward connection closed");
      resolve();
    };
    if (conn.destroyed) done();
    else conn.once("close", done);
  });
}

/**
 * WebSocket: the ports are the RPC's (else the URL's `port` values, as kubelet allows); one
 * forwarded connection per port, the WebSocket closes when all are done. `target` is released
 * at the end; a refused handshake releases it too.
 */
export async function servePortForwardWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  rpcPorts: readonly number[],
  target: PortForwardSessionTarget,
  idleTimeoutMs = 0,
): Promise<void> {
  try {
    let ports = [...rpcPorts];
    if (ports.length === 0) {
      try {
        ports = portsFromQuery(new URL(req.url ?? "/", "http://x").searchParams.getAll("port"));
      } catch (err) {
        const body = `${(err as Error).message}\n`;
        socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
    }
    const up = await acceptWebSocket(req, socket, head, PORTFORWARD_WS_PROTOCOLS);
    if (!up) return;
    const ch = new WsChannels(up.ws, up.protocol, portForwardChannels(ports.length), idleTimeoutMs);
    await portForwardOverWebSocket(ch, ports, target);
    await ch.closed;
  } finally {
    target.release();
  }
}
