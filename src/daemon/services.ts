// Builds RuntimeInfo and the pod and container services from the drivers the daemon made once, and
// the narrow adapters each needs onto the other services (was pods/open.ts and containers/open.ts).
import { join } from "node:path";
import type { Config } from "../config/config.js";
import type { ContainerEventResponse } from "../generated/runtime/v1/api.js";
import type { ImageService } from "../images/service.js";
import type { PodCgroupDriver } from "../oci/cgroups-driver.js";
import type { HandlerSpec, ProbedHandler } from "../oci/handlers.js";
import type { OciRuntime } from "../oci/runtime.js";
import { NO_CONTAINERS, type ContainerHooks, type PodNetworkDriver } from "../pods/context.js";
import { PodService } from "../pods/service.js";
import { RuntimeInfo, type NetworkProbe } from "../runtime/info.js";
import { PodStore } from "../pods/store.js";
import { CdiRegistry } from "../containers/cdi/registry.js";
import type { ImageLookup, PodLookup } from "../containers/context.js";
import { readHostFacts } from "../containers/host/facts.js";
import { ContainerService } from "../containers/service.js";
import type { ImageConfig } from "../containers/spec/index.js";
import { sweepContainerDirs } from "../containers/leftovers.js";
import { ContainerStore } from "../containers/store.js";
import { digestedReference } from "../images/digested-ref.js";
import type { Store } from "../store/db.js";
import type { Publisher } from "../util/fanout.js";
import { openOciRuntime } from "./drivers.js";
import { specImageConfig } from "./image-defaults.js";
import type { Host } from "./host.js";

const CREATE_TIMEOUT_MS = 240_000;

/** Version and Status: the host probe's cgroup answers and the runtime keys, not Config itself. */
export function runtimeInfo(config: Config, host: Host, network: NetworkProbe, probing: Promise<readonly ProbedHandler[]>): RuntimeInfo {
  const { source, ...effective } = config;
  return new RuntimeInfo(
    {
      cgroupDriver: host.cgroupDriver,
      cgroupMode: host.cgroupMode,
      runcPath: config.runtime.runcPath,
      conmonPath: config.runtime.conmonPath,
      defaultHandler: config.runtime.defaultHandler,
      effectiveConfig: { ...effective, configFile: source.file, configFileFound: source.fileFound },
    },
    network,
    probing,
  );
}

/** `names`: every runtime handler; `unusable`: those whose start-up probe failed, with why, filled for a handler once `ready(handler)` resolves. */
export interface PodHandlers {
  names: string[];
  unusable: ReadonlyMap<string, string>;
  /** Handlers where hostUsers: false pods cannot run, with why; filled for a handler once `ready(handler)` resolves. */
  noUserns: ReadonlyMap<string, string>;
  ready: (handler: string) => Promise<void>;
}

/** The container service's side of pods, bound once it exists: pods are built first (containers
 * need them), and until then no pod has containers. Replaces a setter on the pod service. */
export class LateContainerHooks implements ContainerHooks {
  #target: ContainerHooks = NO_CONTAINERS;
  bind(target: ContainerHooks): void {
    this.#target = target;
  }
  stopContainersOf(podId: string): Promise<void> {
    return this.#target.stopContainersOf(podId);
  }
  removeContainersOf(podId: string, signal?: AbortSignal): Promise<void> {
    return this.#target.removeContainersOf(podId, signal);
  }
  statusesOf(podId: string): ReturnType<ContainerHooks["statusesOf"]> {
    return this.#target.statusesOf(podId);
  }
  runningPidsOf(podId: string): number[] {
    return this.#target.runningPidsOf(podId);
  }
}

export function openPodService(config: Config, store: Store, network: PodNetworkDriver, cgroups: PodCgroupDriver, containers: ContainerHooks, handlers: PodHandlers, events?: Publisher<ContainerEventResponse>, rebooted?: string): Promise<PodService> {
  return PodService.open({
    store: new PodStore(store),
    network,
    cgroups,
    containers,
    dirs: { pins: join(config.state, "ns"), pods: join(config.state, "pods"), infraRoot: join(config.state, "infra", "root"), logDirs: join(config.root, "pod-logs") },
    shmSize: config.pods.shmSize,
    defaultHandler: config.runtime.defaultHandler,
    knownHandlers: handlers.names,
    unusableHandlers: handlers.unusable,
    handlersReady: handlers.ready,
    usernsUnavailable: handlers.noUserns,
    ...(events ? { events } : {}),
    ...(rebooted ? { rebooted } : {}),
  });
}

function imageLookup(images: ImageService): ImageLookup {
  // Image configs never change for an ID: shaped once.
  const configs = new Map<string, ImageConfig>();
  return {
    async resolve(ref, asked) {
      const img = await images.resolveForContainer(ref, asked);
      let config = configs.get(img.id);
      if (!config) {
        config = specImageConfig(img.config);
        configs.set(img.id, config);
      }
      return { id: img.id, chainIds: img.chainIds, config, digestedRef: img.digestedRef };
    },
    lowerDirs: (chainIds) => images.lowerDirs(chainIds),
    layersDir: images.layersDir,
    volumeImage(ref, asked) {
      const rec = images.find(ref);
      return rec && { id: rec.id, chainIds: rec.layers.map((l) => l.chainId), imageRef: digestedReference(rec, asked || ref) };
    },
    collect: () => images.collect(),
  };
}

function podLookup(pods: PodService): PodLookup {
  return {
    get: (ref) => pods.get(ref),
    find: (id) => {
      try {
        return pods.get(id);
      } catch {
        return undefined;
      }
    },
    sandboxStatus: (id) => pods.sandboxStatus(id),
    all: () => pods.list({ filter: undefined }).flatMap((p) => {
      try {
        return [pods.get(p.id)];
      } catch {
        return [];
      }
    }),
  };
}

export async function openContainerService(
  config: Config,
  host: Host,
  store: Store,
  cgroups: PodCgroupDriver,
  pods: PodService,
  podHooks: LateContainerHooks,
  images: ImageService,
  handlers: { specs: readonly HandlerSpec[]; probed: ReadonlyMap<string, ProbedHandler>; ready: (handler: string) => Promise<void> },
  events?: Publisher<ContainerEventResponse>,
  rebooted?: string,
): Promise<{ service: ContainerService; oci: OciRuntime }> {
  const oci = await openOciRuntime(config, host, handlers.specs);
  try {
    const facts = await readHostFacts(oci.runc.path, host.cgroupMode, host.hierarchies);
    const service = await ContainerService.open({
      store: new ContainerStore(store),
      oci,
      pods: podLookup(pods),
      images: imageLookup(images),
      cgroups,
      hierarchies: host.hierarchies,
      facts,
      dirs: { bundles: join(config.state, "containers"), data: images.paths.containers, imageVolumes: join(config.root, "image-volumes") },
      createTimeoutMs: CREATE_TIMEOUT_MS,
      ...(events ? { events } : {}),
      handlers: handlers.probed,
      handlersReady: handlers.ready,
      cdi: new CdiRegistry(config.cdi.specDirs),
      ...(rebooted ? { rebooted } : {}),
    });
    images.addLayerUser((chainId) => service.layerInUse(chainId));
    const dirs = { bundles: join(config.state, "containers"), data: images.paths.containers, exits: oci.dirs.exitDir, socks: oci.dirs.socketDir };
    const sweep = async (): Promise<void> => void (await sweepContainerDirs(dirs, () => service.recordedIds()));
    await sweep();
    images.onCollect(sweep);
    podHooks.bind(service);
    pods.containersReady();
    return { service, oci };
  } catch (err) {
    oci.close();
    throw err;
  }
}
