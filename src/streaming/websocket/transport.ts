// exec/attach over WebSocket as a remotecommand transport: the route hands over requests with
// `Upgrade: websocket`, this answers the handshake and runs the same backend as for SPDY.
import type { RemoteCommandTransport } from "../remotecommand/route.js";
import type { SessionResult } from "../remotecommand/session.js";
import { WsChannels } from "./channel-streams.js";
import { REMOTECOMMAND_WS_PROTOCOLS } from "./channels.js";
import { remoteCommandChannels, WsRemoteCommandSession } from "./remotecommand.js";
import { acceptWebSocket, isWebSocketRequest } from "./upgrade.js";

export const webSocketRemoteCommand: RemoteCommandTransport = {
  accepts: isWebSocketRequest,
  async serve(ctx, opts, backend) {
    const up = await acceptWebSocket(ctx.req, ctx.socket, ctx.head, REMOTECOMMAND_WS_PROTOCOLS);
    if (!up) return;
    const o = { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr, tty: opts.tty, stdinOnce: opts.stdinOnce ?? false };
    const session = new WsRemoteCommandSession(new WsChannels(up.ws, up.protocol, remoteCommandChannels(o), ctx.idleTimeoutMs), o);
    let result: SessionResult;
    try {
      result = await backend(session);
    } catch (err) {
      result = { error: err instanceof Error ? err.message : String(err) };
    }
    await session.finish(result);
  },
};
