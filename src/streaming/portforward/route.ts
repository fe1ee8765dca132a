// The /portforward/<token> route: picks SPDY (`portforward.k8s.io`) or WebSocket from the
// Upgrade header, opens a dial target in the pod (which must still be READY), serves the session.
import type { PortForwardRequest } from "../../generated/runtime/v1/api.js";
import { acceptSpdyUpgrade, negotiate, wantsSpdy, writeHttpError } from "../handshake.js";
import type { StreamContext } from "../server.js";
import { SpdyConnection } from "../spdy/connection.js";
import { isWebSocketRequest } from "../websocket/upgrade.js";
import type { PortForwardPods, PortForwardSessionTarget } from "./pods.js";
import { servePortForwardSpdy, servePortForwardWebSocket } from "./serve.js";

export const PORTFORWARD_PROTOCOLS = ["portforward.k8s.io"] as const;

export async function servePortForward(ctx: StreamContext, req: PortForwardRequest, pods: PortForwardPods): Promise<void> {
  const spdy = wantsSpdy(ctx.req);
  if (!spdy && !isWebSocketRequest(ctx.req)) {
    return writeHttpError(ctx.socket, 400, `unsupported upgrade ${JSON.stringify(ctx.req.headers.upgrade ?? "")}; use SPDY/3.1 or websocket`);
  }
  const n = spdy ? negotiate(ctx.req, PORTFORWARD_PROTOCOLS) : undefined;
  if (n && !n.ok) return writeHttpError(ctx.socket, n.status, n.message, n.headers);
  let target: PortForwardSessionTarget;
  try {
    target = pods.open(req.podSandboxId);
  } catch (err) {
    return writeHttpError(ctx.socket, 500, (err as Error).message);
  }
  if (!spdy) return servePortForwardWebSocket(ctx.req, ctx.socket, ctx.head, req.port, target, ctx.idleTimeoutMs);
  acceptSpdyUpgrade(ctx.socket, PORTFORWARD_PROTOCOLS[0]);
  const conn = new SpdyConnection(ctx.socket, { server: true, head: ctx.head, idleTimeoutMs: ctx.idleTimeoutMs });
  return servePortForwardSpdy(conn, target);
}
