// Client side of the SPDY/3.1 upgrade: POST with Upgrade and the offered X-Stream-Protocol-Version
// list, then a client SpdyConnection on the socket; a refusal comes back with its status and text.
import type { IncomingMessage } from "node:http";
import { http } from "../../util/node-http.js";
import { request as httpsRequest } from "node:https";
import type { Duplex } from "node:stream";
import { SpdyConnection } from "./connection.js";

const { request: httpRequest } = http;

export interface DialOptions {
  protocols: readonly string[];
  /** TLS: CA to trust, client certificate and key (PEM). */
  ca?: string | Buffer | undefined;
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  timeoutMs?: number;
}

export class UpgradeRefusedError extends Error {
  override name = "UpgradeRefusedError";
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: IncomingMessage["headers"],
  ) {
    super(`streaming server refused the upgrade: HTTP ${status}${body.trim() ? `: ${body.trim()}` : ""}`);
  }
}

export function dialSpdy(url: string, o: DialOptions): Promise<{ conn: SpdyConnection; protocol: string }> {
  const u = new URL(url);
  const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, {
    method: "POST",
    headers: { Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": [...o.protocols] },
    ...(o.ca ? { ca: o.ca } : {}),
    ...(o.cert ? { cert: o.cert } : {}),
    ...(o.key ? { key: o.key } : {}),
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer from ${u.origin} within ${o.timeoutMs ?? 30_000} ms`));
    }, o.timeoutMs ?? 30_000);
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on("upgrade", (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      clearTimeout(timer);
      const protocol = String(res.headers["x-stream-protocol-version"] ?? "");
      if (!o.protocols.includes(protocol)) {
        socket.destroy();
        return reject(new Error(`streaming server chose protocol ${JSON.stringify(protocol)}, which was not offered`));
      }
      resolve({ conn: new SpdyConnection(socket, { server: false, head }), protocol });
    });
    req.on("response", (res: IncomingMessage) => {
      clearTimeout(timer);
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        if (body.length < 4096) body += d;
      });
      res.on("end", () => reject(new UpgradeRefusedError(res.statusCode ?? 0, body, res.headers)));
      res.on("error", reject);
    });
    req.end();
  });
}
