// The exec/attach route handler: picks the transport from the Upgrade header (SPDY/3.1 here,
// WebSocket registered by its own module) and hands it the request's stream options and backend.
import type { IncomingMessage } from "node:http";
import { wantsSpdy, writeHttpError } from "../handshake.js";
import type { StreamContext } from "../server.js";
import type { SessionBackend } from "./session.js";
import { serveSpdyRemoteCommand, type RemoteCommandOptions } from "./spdy.js";

/** A non-SPDY transport for remotecommand (WebSocket): claims requests it recognises. */
export interface RemoteCommandTransport {
  accepts(req: IncomingMessage): boolean;
  serve(ctx: StreamContext, opts: RemoteCommandOptions, backend: SessionBackend): Promise<void>;
}

const transports: RemoteCommandTransport[] = [];

export function registerRemoteCommandTransport(t: RemoteCommandTransport): void {
  transports.push(t);
}

export function serveRemoteCommand(ctx: StreamContext, opts: RemoteCommandOptions, backend: SessionBackend): Promise<void> {
  if (wantsSpdy(ctx.req)) return serveSpdyRemoteCommand(ctx, opts, backend);
  const t = transports.find((x) => x.accepts(ctx.req));
  if (t) return t.serve(ctx, opts, backend);
  writeHttpError(ctx.socket, 400, `unsupported upgrade ${JSON.stringify(ctx.req.headers.upgrade ?? "")}; use SPDY/3.1`);
  return Promise.resolve();
}
