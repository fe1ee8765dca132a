// Copies between one forwarded stream (SPDY data stream or WebSocket data channel) and the
// pod's TCP socket, both ways, with half-close passed through and resets turned into resets.
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";

/**
 * Resolves when the pod socket is closed: both directions finished, or either side broke.
 * The client's FIN ends our writes to the pod; the pod's FIN ends the stream (FIN to the
 * client). A stream reset before the client finished sending destroys the socket; a socket
 * error destroys (resets) the stream.
 */
export function splice(stream: Duplex, sock: Socket): Promise<void> {
  stream.pipe(sock);
  sock.pipe(stream);
  stream.on("error", () => sock.destroy());
  stream.once("close", () => {
    if (!stream.readableEnded) sock.destroy();
  });
  sock.on("error", () => undefined);
  return new Promise((resolve) => {
    sock.once("close", (hadError) => {
      if (hadError) stream.destroy();
      resolve();
    });
  });
}
