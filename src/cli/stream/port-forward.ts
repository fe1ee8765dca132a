// The client side of port-forward over SPDY (`portforward.k8s.io`) for `berth port-forward`:
// listens locally, and per accepted connection opens an error and a data stream (with a
// requestid) on one upgraded connection, as kubectl does.
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import type { SpdyConnection } from "../../streaming/spdy/connection.js";
import { dialSpdy } from "../../streaming/spdy/dial.js";

export const PORTFORWARD_PROTOCOL = "portforward.k8s.io";

export interface PortMapping {
  /** 0: any free port. */
  local: number;
  remote: number;
}

/** "8080", "8080:80", ":80" (a free local port), as kubectl port-forward reads them. */
export function parsePortMapping(spec: string): PortMapping {
  const m = /^(\d*)(?::(\d+))?$/.exec(spec);
  const bad = () => new Error(`port mapping "${spec}": expected LOCAL:REMOTE, PORT or :REMOTE (ports 1-65535; LOCAL may be empty or 0 for any free port)`);
  if (!m || (m[1] === "" && m[2] === undefined)) throw bad();
  const local = m[1] === "" ? 0 : Number(m[1]);
  const remote = m[2] === undefined ? local : Number(m[2]);
  if (local > 65535 || remote < 1 || remote > 65535) throw bad();
  return { local, remote };
}

export interface PortForwardSession {
  /** The local addresses actually bound, in mapping order. */
  listening: Array<{ local: number; remote: number }>;
  /** Resolves when the streaming connection ends (server closed it or stop() was called). */
  done: Promise<void>;
  stop(): void;
}

/**
 * Upgrades once, binds every local port on `address`, and forwards each accepted connection.
 * `log` gets kubectl's lines ("Forwarding from …", "Handling connection for …", errors).
 */
export async function startPortForward(url: string, mappings: readonly PortMapping[], address: string, log: (line: string) => void): Promise<PortForwardSession> {
  const { conn } = await dialSpdy(url, { protocols: [PORTFORWARD_PROTOCOL] });
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let nextRequest = 0;
  const stop = () => {
    for (const s of servers) s.close();
    for (const s of sockets) s.destroy();
    conn.close();
    setTimeout(() => conn.destroy(), 1000).unref();
  };
  try {
    for (const m of mappings) {
      const server = createServer({ allowHalfOpen: true }, (local) => {
        sockets.add(local);
        local.once("close", () => sockets.delete(local));
        log(`Handling connection for ${m.local === 0 ? (server.address() as { port: number }).port : m.local}`);
        void forward(conn, local, m.remote, String(nextRequest++), log);
      });
      server.listen(m.local, address);
      await once(server, "listening");
      servers.push(server);
    }
  } catch (err) {
    stop();
    throw err;
  }
  const listening = servers.map((s, i) => ({ local: (s.address() as { port: number }).port, remote: mappings[i]!.remote }));
  for (const l of listening) log(`Forwarding from ${address.includes(":") ? `[${address}]` : address}:${l.local} -> ${l.remote}`);
  const done = once(conn, "close").then(() => {
    for (const s of servers) s.close();
    for (const s of sockets) s.destroy();
  });
  return { listening, done, stop };
}

async function forward(conn: SpdyConnection, local: Socket, port: number, requestId: string, log: (line: string) => void): Promise<void> {
  local.on("error", () => undefined);
  let error, data;
  try {
    error = await conn.openStream({ streamtype: "error", port: String(port), requestid: requestId });
    error.end();
    data = await conn.openStream({ streamtype: "data", port: String(port), requestid: requestId });
  } catch (err) {
    error?.reset();
    log(`error creating streams for port ${port}: ${(err as Error).message}`);
    local.destroy();
    return;
  }
  let message = "";
  error.setEncoding("utf8");
  error.on("data", (c: string) => {
    if (message.length < 4096) message += c;
  });
  error.once("end", () => {
    if (message !== "") {
      log(`an error occurred forwarding ${(local.localPort ?? 0)} -> ${port}: ${message}`);
      local.destroy();
    }
  });
  const d = data;
  local.pipe(d);
  d.pipe(local);
  d.once("close", () => {
    if (!d.readableEnded) local.destroy();
  });
  local.once("close", () => {
    if (!d.writableEnded) d.reset();
  });
}
