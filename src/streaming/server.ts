// The streaming server kubelet and crictl connect to for Exec, Attach and PortForward: one HTTP(S)
// listener, single-use tokens in the URLs, and a route handler per kind that takes over the upgraded socket.
import { readFileSync } from "node:fs";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import { http } from "../util/node-http.js";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { AttachRequest, ExecRequest, PortForwardRequest } from "../generated/runtime/v1/api.js";
import { ConfigError } from "../config/config.js";
import { failedPrecondition } from "../errors.js";
import { logger } from "../util/log.js";
import { writeHttpError } from "./handshake.js";
import { TokenCache } from "./tokens.js";

const { createServer: createHttpServer } = http;

const log = logger("streaming");
/** At shutdown: how long sessions get to clean up (kill their exec, remove its files). */
const CLOSE_WAIT_MS = 5_000;

/** What each kind's RPC stores under its token (container/pod IDs already resolved to full IDs). */
export interface StreamRequests {
  exec: ExecRequest;
  attach: AttachRequest;
  portforward: PortForwardRequest;
}
export type StreamKind = keyof StreamRequests;
const KINDS: readonly StreamKind[] = ["exec", "attach", "portforward"];

export interface StreamContext {
  req: IncomingMessage;
  /** The raw socket after the HTTP request head; the handler answers (101 or an error) and owns it. */
  socket: Duplex;
  /** Bytes read past the request head. */
  head: Buffer;
  idleTimeoutMs: number;
}

/** Serves one upgraded connection; resolves when the session is over (the socket is then closed). */
export type RouteHandler<K extends StreamKind> = (request: StreamRequests[K], ctx: StreamContext) => Promise<void>;

export interface StreamingServerOptions {
  /** "host:port"; port 0 picks a free one (the URLs carry the chosen port). */
  address: string;
  tls?: { certFile: string; keyFile: string; clientCaFile?: string | undefined } | undefined;
  idleTimeoutMs: number;
  tokenTtlMs: number;
  maxSessions: number;
  /** Issued URLs not yet used (kubelet: 1000). */
  maxInFlight?: number;
}

/** Splits "host:port" / "[v6]:port". */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!m) throw new ConfigError(`streaming.address ${JSON.stringify(address)} is not "host:port"`);
  return { host: m[1] ?? m[2] ?? "", port: Number(m[3]) };
}

export class StreamingServer {
  readonly #server: HttpServer;
  readonly #tokens: TokenCache<{ [K in StreamKind]: { kind: K; request: StreamRequests[K] } }[StreamKind]>;
  readonly #handlers = new Map<StreamKind, RouteHandler<StreamKind>>();
  readonly #sockets = new Set<Duplex>();
  readonly #sessions = new Set<Promise<void>>();
  #baseUrl = "";

  private constructor(
    private readonly o: StreamingServerOptions,
    server: HttpServer,
  ) {
    this.#server = server;
    this.#tokens = new TokenCache({ ttlMs: o.tokenTtlMs, maxInFlight: o.maxInFlight ?? 1000 });
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    server.on("request", (req, res) => {
      // Without an upgrade nothing can be served; the token is spent all the same (as kubelet's server does).
      const found = this.#lookup(req);
      res.writeHead(found ? 400 : 404, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" });
      res.end(found ? "this URL must be opened with an HTTP upgrade (SPDY/3.1 or WebSocket)\n" : "");
    });
    server.on("clientError", (_err, socket: Duplex) => socket.destroy());
  }

  static async start(o: StreamingServerOptions): Promise<StreamingServer> {
    // streaming.address = "": no listener; issue() refuses, so Exec/Attach/PortForward say why.
    if (o.address === "") return new StreamingServer(o, createHttpServer());
    const { host, port } = splitAddress(o.address);
    let server: HttpServer;
    if (o.tls) {
      const read = (file: string, key: string): Buffer => {
        try {
          return readFileSync(file);
        } catch (e) {
          throw new ConfigError(`${key} ${file}: ${(e as Error).message}`);
        }
      };
      const ca = o.tls.clientCaFile ? read(o.tls.clientCaFile, "streaming.tls_client_ca") : undefined;
      server = createHttpsServer({
        cert: read(o.tls.certFile, "streaming.tls_cert"),
        key: read(o.tls.keyFile, "streaming.tls_key"),
        ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
      }) as unknown as HttpServer;
    } else {
      server = createHttpServer();
    }
    const s = new StreamingServer(o, server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => log.error({ err }, "streaming listener failed"));
    const bound = (server.address() as AddressInfo).port;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    s.#baseUrl = `${o.tls ? "https" : "http"}://${urlHost}:${bound}`;
    log.info({ url: s.#baseUrl }, "streaming server listening");
    return s;
  }

  get baseUrl(): string {
    return this.#baseUrl;
  }

  get activeSessions(): number {
    return this.#sockets.size;
  }

  /** Installs the handler for one kind (exec and attach here; port-forward from its own module). */
  route<K extends StreamKind>(kind: K, handler: RouteHandler<K>): void {
    this.#handlers.set(kind, handler as unknown as RouteHandler<StreamKind>);
  }

  /** Stores request under a fresh single-use token and returns the URL to give the caller. */
  issue<K extends StreamKind>(kind: K, request: StreamRequests[K]): string {
    if (!this.#baseUrl) throw failedPrecondition(`${kind}: the streaming server is disabled (streaming.address is empty)`);
    const token = this.#tokens.put({ kind, request } as { [P in StreamKind]: { kind: P; request: StreamRequests[P] } }[StreamKind]);
    return `${this.#baseUrl}/${kind}/${token}`;
  }

  /** Stops listening and cuts every session, then waits (bounded) for their backends to clean up. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.#sessions), new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    await closed;
  }

  #lookup(req: IncomingMessage): { kind: StreamKind; request: StreamRequests[StreamKind] } | undefined {
    const m = /^\/([a-z]+)\/([A-Za-z0-9_-]{1,64})$/.exec((req.url ?? "").split("?")[0] ?? "");
    if (!m || !KINDS.includes(m[1] as StreamKind)) return undefined;
    const entry = this.#tokens.take(m[2]!);
    return entry && entry.kind === m[1] ? entry : undefined;
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const entry = this.#lookup(req);
    if (!entry) return writeHttpError(socket, 404, "");
    const handler = this.#handlers.get(entry.kind);
    if (!handler) return writeHttpError(socket, 404, `${entry.kind} is not served by this runtime`);
    if (this.#sockets.size >= this.o.maxSessions) {
      return writeHttpError(socket, 503, `${this.o.maxSessions} streaming sessions are already open (streaming.max_sessions)`);
    }
    this.#sockets.add(socket);
    const started = performance.now();
    const session: Promise<void> = handler(entry.request, { req, socket, head, idleTimeoutMs: this.o.idleTimeoutMs })
      .catch((err: unknown) => log.warn({ kind: entry.kind, err }, "streaming session failed"))
      .finally(() => {
        this.#sockets.delete(socket);
        this.#sessions.delete(session);
        socket.destroy();
        log.debug({ kind: entry.kind, ms: Math.round(performance.now() - started) }, "streaming session over");
      });
    this.#sessions.add(session);
  }
}
