// Starts the streaming server from config and routes its kinds: exec and attach to the container
// service over remotecommand (SPDY or WebSocket), port-forward into pods through the dialers.
import type { Config } from "../config/config.js";
import type { ContainerService } from "../containers/service.js";
import { PodDialers } from "../network/netns-dialer.js";
import type { PodService } from "../pods/service.js";
import { PortForwardPods } from "../streaming/portforward/pods.js";
import { servePortForward } from "../streaming/portforward/route.js";
import { registerRemoteCommandTransport, serveRemoteCommand } from "../streaming/remotecommand/route.js";
import { StreamingServer } from "../streaming/server.js";
import { webSocketRemoteCommand } from "../streaming/websocket/transport.js";

registerRemoteCommandTransport(webSocketRemoteCommand);

export interface Streaming {
  server: StreamingServer;
  portForward: PortForwardPods;
  /** Port-forward helpers and connections first, then the listener and its sessions. */
  close(): Promise<void>;
}

export async function startStreaming(config: Config, containers: ContainerService, pods: PodService): Promise<Streaming> {
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
  const dialers = new PodDialers();
  const portForward = new PortForwardPods(pods, dialers, server);
  server.route("portforward", (req, ctx) => servePortForward(ctx, req, portForward));
  containers.setStreaming(server);
  return {
    server,
    portForward,
    async close() {
      await dialers.close();
      await server.close();
    },
  };
}
