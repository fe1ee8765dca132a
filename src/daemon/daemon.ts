// `berth daemon`: prepares the state dirs, opens the store, builds the services and wires them
// to the CRI server, serves the unix socket, and shuts down on SIGTERM/SIGINT without
// touching containers.
import { ServerCredentials, type Server } from "@grpc/grpc-js";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, type Config } from "../config/config.js";
import { Store } from "../store/db.js";
import { createCriServer } from "../server/grpc.js";
import { runtimeInfoHandlers } from "../server/runtime-info.js";
import { podHandlers } from "../server/pods.js";
import { ImageService } from "../images/service.js";
import { imageHandlers } from "../server/images.js";
import { ociStateDirs } from "../oci/bundle.js";
import { handlerSpecs, probeHandlers, type ProbedHandler } from "../oci/handlers.js";
import { containerHandlers } from "../server/containers.js";
import { newEventBus } from "../containers/events.js";
import { eventHandlers } from "../server/events.js";
import { imageStreamHandlers, listStreamHandlers } from "../server/lists.js";
import { claimSocketPath, restrictSocket } from "./socket.js";
import { startStreaming } from "./streaming.js";
import { portForwardHandlers } from "../server/portforward.js";
import { authorityFixingDuplex } from "../h2-front/index.js";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { setDiskFullDirs } from "../util/disk-full.js";
import { logger } from "../util/log.js";
import { makePrivateDir } from "../util/private-dir.js";
import { startObservers, startTracing } from "./observe.js";
import { checkBoot } from "./boot.js";
import { cniNetwork, imageDrivers, podDrivers } from "./drivers.js";
import { probeHost } from "./host.js";
import { LateContainerHooks, openContainerService, openPodService, runtimeInfo } from "./services.js";

const log = logger("daemon");
const SHUTDOWN_GRACE_MS = 10_000;

/** Everything the daemon built, in the order it must be closed (last built, first closed). */
interface Closable {
  close(): void | Promise<void>;
}

export async function runDaemon(config: Config): Promise<number> {
  const t0 = performance.now();
  for (const dir of [config.root, config.state]) {
    const mode = makePrivateDir(dir);
    if (mode & 0o077) log.warn({ dir, mode: mode.toString(8) }, "directory is open to other users; Berth's own subdirectories are 0700, but 0700 here is safer");
  }
  // Beside the socket, so a second instance with other dirs can still name the holder.
  setDiskFullDirs([config.root, config.state]);
  const pidFile = `${config.socket}.pid`;
  await claimSocketPath(config.socket, () => {
    try {
      return `pid ${readFileSync(pidFile, "utf8").trim()}`;
    } catch {
      return "pid unknown";
    }
  });

  const closables: Closable[] = [];
  const tracer = await startTracing(process.env);
  if (tracer) closables.push(tracer);
  let store: Store;
  try {
    store = Store.open(join(config.root, "berth.db"));
  } catch (err) {
    await closeAll(closables);
    throw err;
  }
  closables.push(store);
  let metricsAddress: string | undefined;
  let server: Server | undefined;
  let listener: NetServer | undefined;
  /** The CRI connections open now (the shutdown waits for them to close). */
  const conns = new Set<Socket>();
  // Pods and containers publish lifecycle events here; GetContainerEvents subscribes.
  const events = newEventBus(config.events.queueSize);
  try {
    const host = await probeHost(config);
    const network = cniNetwork(config);
    const specs = handlerSpecs({ runcPath: config.runtime.runcPath, runcRoot: ociStateDirs(config.state).runcRoot, configured: config.runtime.handlers, runtimesDir: join(config.state, "runtimes") });
    if (!specs.some((h) => h.name === config.runtime.defaultHandler)) {
      throw new ConfigError(`runtime.default_handler "${config.runtime.defaultHandler}" is not a runtime handler; known: ${specs.map((h) => h.name).join(", ")} (add [runtime.handlers.${config.runtime.defaultHandler}])`);
    }
    // Every handler runs a probe container once (~50-300 ms) in the background: Status waits for
    // every verdict, RunPodSandbox and CreateContainer for their own handler's, nothing else does.
    const unusable = new Map<string, string>();
    const noUserns = new Map<string, string>();
    const probed = new Map<string, ProbedHandler>();
    const verdicts = new Map<string, Promise<ProbedHandler>>();
    for (const [name, probe] of probeHandlers(specs, join(config.state, "runtimes", "probe"))) {
      verdicts.set(name, probe.then((h) => {
        probed.set(h.spec.name, h);
        if (!h.usable) unusable.set(h.spec.name, h.reason);
        if (!h.features.userNamespaces) noUserns.set(h.spec.name, h.usernsReason || "the probe found no user namespace support");
        return h;
      }));
    }
    const probing = Promise.all(verdicts.values());
    const ready = async (handler: string): Promise<void> => void (await verdicts.get(handler));
    closables.push({ close: async () => void (await probing) }); // shutting down waits for the probe: no runc left behind
    const info = runtimeInfo(config, host, network, probing);
    const boot = await checkBoot(config.state);
    if (boot.rebooted) log.warn({ why: boot.rebooted }, "reboot detected: every container is exited and every pod NOTREADY; no pid of the earlier boot is trusted");
    const cgroups = await podDrivers(config, host);
    const podHooks = new LateContainerHooks();
    const pods = await openPodService(config, store, network, cgroups, podHooks, { names: specs.map((h) => h.name), unusable, noUserns, ready }, events, boot.rebooted);
    closables.push(pods);
    const images = await ImageService.open(imageDrivers(config, store));
    closables.push(images);
    const containers = await openContainerService(config, host, store, cgroups, pods, podHooks, images, { specs, probed, ready }, events, boot.rebooted);
    closables.push(containers.oci, containers.service);
    // What gone pods left (CNI cache entries get DEL from the entry; log dirs Berth made): at start and on the GC schedule.
    const sweepPods = async (): Promise<void> => {
      await network.collectOrphans(() => pods.recordedIds());
      await pods.collect();
    };
    await sweepPods().catch((err: unknown) => log.warn({ err }, "collecting what gone pods left failed; the schedule retries"));
    images.onCollect(sweepPods);
    await boot.commit();
    const streaming = await startStreaming(config, containers.service, pods);
    closables.push(streaming);
    events.endRecovery();
    const observers = await startObservers(config.metrics.address, { pods, containers: containers.service, pulls: images.progress, events });
    closables.push(observers);
    metricsAddress = observers.metrics;
    server = createCriServer({
      runtime: { ...runtimeInfoHandlers(info), ...podHandlers(pods), ...containerHandlers(containers.service), ...eventHandlers(events), ...listStreamHandlers(pods, containers.service), ...portForwardHandlers(streaming.portForward) },
      image: { ...imageHandlers(images), ...imageStreamHandlers(images) },
    });
    listener = await bind(server, config.socket, conns);
    restrictSocket(config.socket);
  } catch (err) {
    await closeAll(closables);
    throw err;
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  log.info({ socket: config.socket, root: config.root, state: config.state, ...(metricsAddress ? { metrics: metricsAddress } : {}), ms: Math.round(performance.now() - t0) }, "berth ready");

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log.info({ signal }, "shutting down; containers keep running");
  listener?.close();
  // Event streams never end by themselves: ended first, so they do not hold the shutdown.
  events.close();
  await shutdown(server, conns);
  await closeAll(closables);
  rmSync(pidFile, { force: true });
  rmSync(config.socket, { force: true });
  log.info("stopped");
  return 0;
}

async function closeAll(closables: Closable[]): Promise<void> {
  for (const c of closables.reverse()) {
    try {
      await c.close();
    } catch (err) {
      log.warn({ err }, "close failed");
    }
  }
}

/**
 * Serves the CRI socket through our own listener rather than grpc-js's bind, so each
 * connection passes the HTTP/2 :authority fix that Go clients (crictl 1.26, kubelet) need.
 */
function bind(server: Server, socket: string, conns: Set<Socket>): Promise<NetServer> {
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const listener = createNetServer((conn) => {
    conns.add(conn);
    conn.once("close", () => conns.delete(conn));
    injector.injectConnection(authorityFixingDuplex(conn));
  });
  return new Promise((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(socket, () => {
      listener.off("error", reject);
      listener.on("error", (err) => log.error({ err }, "CRI socket listener failed"));
      resolve(listener);
    });
  });
}

/**
 * Stops accepting, lets in-flight calls finish for a bounded time, then cuts the rest. Done is
 * when every connection has closed: each HTTP/2 session, told to go away, ends once its last call
 * answered. (tryShutdown's own callback is no such sign on injected connections: Node's
 * Http2Server.close() starts closing the sessions first, so grpc-js finds them closing and
 * calls back at once, before the calls in flight answered.)
 */
async function shutdown(server: Server, conns: Set<Socket>): Promise<void> {
  server.tryShutdown(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), SHUTDOWN_GRACE_MS)));
  const allClosed = Promise.all([...conns].map((c) => new Promise<void>((resolve) => (c.closed ? resolve() : c.once("close", () => resolve()))))).then(() => true);
  const finished = await Promise.race([allClosed, graceOver]);
  clearTimeout(timer);
  if (!finished) {
    log.warn({ graceMs: SHUTDOWN_GRACE_MS, connections: conns.size }, "in-flight calls did not finish; closing them");
    server.forceShutdown();
    for (const c of conns) c.destroy();
  }
}
