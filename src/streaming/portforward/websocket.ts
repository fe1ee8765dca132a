// port-forward over WebSocket (kubelet's v4 channel framing): the ports are fixed by the request,
// one connection per port: channel 2i carries port i's data, 2i+1 its error text, and the first
// message on each is the port (uint16 little-endian). The WebSocket closes when all are done.
import { logger } from "../../util/log.js";
import type { WsChannels, ChannelMode } from "../websocket/channel-streams.js";
import { portPrefix } from "../websocket/channels.js";
import { forwardError, type PortForwardTarget } from "./spdy.js";
import { splice } from "./splice.js";

const log = logger("port-forward");

/** Channel modes for `ports.length` ports: data (both ways), error (ours only). */
export function portForwardChannels(count: number): ChannelMode[] {
  return Array.from({ length: count * 2 }, (_, i) => ({ read: i % 2 === 0, write: true }));
}

export async function portForwardOverWebSocket(ch: WsChannels, ports: readonly number[], target: PortForwardTarget): Promise<void> {
  await Promise.all(
    ports.map(async (port, i) => {
      const data = ch.streams[2 * i]!;
      const error = ch.streams[2 * i + 1]!;
      data.on("error", () => undefined);
      error.on("error", () => undefined);
      data.write(portPrefix(port));
      error.write(portPrefix(port));
      let sock;
      try {
        sock = await target.dial(port);
      } catch (err) {
        const msg = forwardError(port, target.podName, err);
        log.debug({ port, err: msg }, "port-forward (WebSocket) connection failed");
        error.end(msg);
        data.end();
        return;
      }
      // No half-close on a WebSocket channel: when the pod is done, so is this connection.
      sock.once("end", () => sock.end());
      ch.closed.then(() => sock.destroy(), () => undefined);
      await splice(data, sock);
      error.end();
    }),
  );
  ch.close();
}
