// The Prometheus scrape endpoint: GET (or HEAD) /metrics on metrics.address and nothing else;
// no request body is read, headers and connections are capped, and close() cuts every connection.
import type { IncomingMessage, ServerResponse } from "node:http";
import { http } from "../util/node-http.js";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { logger } from "../util/log.js";

const { createServer } = http;

const log = logger("metrics");
const MAX_CONNECTIONS = 32;

export interface MetricsServer {
  /** host:port actually bound (port 0 in the config picks one). */
  address: string;
  close(): Promise<void>;
}

export class MetricsBindError extends Error {
  override name = "MetricsBindError";
}

/** "127.0.0.1:9464" or "[::1]:9464" into host and port (the config already checked the shape). */
export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(address.slice(i + 1)) };
}

function answer(res: ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { "Content-Type": "text/plain; charset=utf-8", ...headers });
  res.end(text);
}

export async function serveMetrics(address: string, registry: Registry): Promise<MetricsServer> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // No request here has a body: one that announces a body is refused and its connection closed unread.
    const length = req.headers["content-length"];
    if ((length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined)
      return answer(res, 413, "requests to the metrics endpoint carry no body\n", { Connection: "close" });
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/metrics") return answer(res, 404, "not found: the metrics are at /metrics\n");
    if (req.method !== "GET" && req.method !== "HEAD") return answer(res, 405, "only GET /metrics\n", { Allow: "GET, HEAD" });
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "Content-Type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (err: unknown) => {
        log.error({ err }, "collecting metrics failed");
        answer(res, 500, "collecting metrics failed; see the daemon log\n");
      },
    );
  };
  const server = createServer({ maxHeaderSize: 8192, headersTimeout: 5_000, requestTimeout: 10_000, keepAliveTimeout: 5_000 }, handle);
  server.maxConnections = MAX_CONNECTIONS;
  server.on("clientError", (_err, socket) => socket.destroy());
  const { host, port } = splitAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(new MetricsBindError(`cannot serve metrics on metrics.address "${address}": ${err.code ?? err.message}; choose another address, or "" to turn metrics off`)));
    server.listen({ host, port }, resolve);
  });
  server.on("error", (err) => log.error({ err }, "metrics listener failed"));
  const bound = server.address() as AddressInfo;
  return {
    address: bound.family === "IPv6" ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
