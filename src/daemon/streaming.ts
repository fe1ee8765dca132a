// Starts the streaming server from config and routes its kinds: exec and attach to the container
// service over remotecommand (port-forward adds its own route here).
import type { Config } from "../config/config.js";
import type { ContainerService } from "../containers/service.js";
import { serveRemoteCommand } from "../streaming/remotecommand/route.js";
import { StreamingServer } from "../streaming/server.js";

export async function startStreaming(config: Config, containers: ContainerService): Promise<StreamingServer> {
  const s = config.streaming;
  const server = await StreamingServer.start({
    address: s.address,
    tls: s.tlsCert || s.tlsKey ? { certFile: s.tlsCert, keyFile: s.tlsKey, clientCaFile: s.tlsClientCa || undefined } : undefined,
    idleTimeoutMs: s.idleTimeoutMs,
    tokenTtlMs: s.tokenTtlMs,
    maxSessions: s.maxSessions,
  });
  server.route("exec", (req, ctx) =>
    serveRemoteCommand(ctx, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, tty: req.tty }, (session) => containers.runExec(req, session)),
  );
  server.route("attach", (req, ctx) =>
    serveRemoteCommand(ctx, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, tty: req.tty }, (session) => containers.runAttach(req, session)),
  );
  containers.setStreaming(server);
  return server;
}
