// The client half of the streaming handshake: POST to the URL the Exec/Attach/PortForward RPC
// returned, ask for SPDY/3.1 with our X-Stream-Protocol-Version list, hand back the socket.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";

export interface Upgraded {
  socket: Socket;
  /** Bytes that came with the 101 answer (the first SPDY frames, if any). */
  head: Buffer;
  /** The protocol the server chose. */
  protocol: string;
}

const TIMEOUT_MS = 30_000;

/** Upgrades to SPDY/3.1; a refusal is an error carrying the server's status and text. */
export function upgradeToSpdy(url: string, protocols: readonly string[]): Promise<Upgraded> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new Error(`the runtime returned a streaming URL that is not a URL: ${JSON.stringify(url)}`));
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return Promise.reject(new Error(`streaming URL ${url}: expected http or https`));
  const request = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, {
      method: "POST",
      headers: { Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": [...protocols], "Content-Length": "0" },
      timeout: TIMEOUT_MS,
    });
    req.once("timeout", () => req.destroy(new Error(`streaming server at ${u.host} did not answer within ${TIMEOUT_MS / 1000} s`)));
    req.once("error", reject);
    req.once("upgrade", (res: IncomingMessage, socket: Socket, head: Buffer) => {
      const protocol = String(res.headers["x-stream-protocol-version"] ?? "");
      if (!protocols.includes(protocol)) {
        socket.destroy();
        reject(new Error(`streaming server chose protocol ${JSON.stringify(protocol)}, not one of ${protocols.join(", ")}`));
        return;
      }
      socket.setTimeout(0);
      resolve({ socket, head, protocol });
    });
    req.once("response", (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        if (body.length < 4096) body += c;
      });
      res.on("end", () => reject(new Error(`streaming server refused the upgrade: ${res.statusCode} ${res.statusMessage ?? ""}${body.trim() ? `: ${body.trim()}` : ""}`)));
    });
    req.end();
  });
}
