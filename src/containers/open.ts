// Builds the container service from the daemon's config and the services it needs: the OCI
// driver (runc + conmon), the cgroup driver, host facts, and adapters onto the pod and image services.
import { join } from "node:path";
import type { Config } from "../config/config.js";
import { notFound } from "../errors.js";
import type { ImageService } from "../images/service.js";
import { digestedReference } from "../images/digested-ref.js";
import { parseImageConfig } from "../images/registry/image-config.js";
import { MAX_CONFIG_BYTES } from "../images/registry/media-types.js";
import { openCgroupDriver } from "../oci/cgroups-driver.js";
import { cgroupHierarchies } from "../oci/cgroups-hierarchies.js";
import { defaultCgroupDriver, detectCgroupMode } from "../oci/cgroups.js";
import { runtimeBinary, type HandlerSpec, type ProbedHandler } from "../oci/handlers.js";
import { OciRuntime } from "../oci/runtime.js";
import type { PodService } from "../pods/service.js";
import type { Store } from "../store/db.js";
import type { ContainerEventResponse } from "../generated/runtime/v1/api.js";
import type { Publisher } from "../util/fanout.js";
import type { ImageLookup, PodLookup, ResolvedImage } from "./context.js";
import { readHostFacts } from "./host/facts.js";
import { CdiRegistry } from "./cdi/registry.js";
import { ContainerService } from "./service.js";
import type { ImageConfig } from "./spec/index.js";
import { sweepContainerDirs } from "./leftovers.js";
import { ContainerStore } from "./store.js";

const CREATE_TIMEOUT_MS = 240_000;

function imageLookup(images: ImageService): ImageLookup {
  // Image configs never change for an ID: parse each once.
  const configs = new Map<string, ImageConfig>();
  return {
    async resolve(ref, asked) {
      const rec = images.find(ref);
      if (!rec) throw notFound("image", ref);
      let config = configs.get(rec.id);
      if (!config) {
        const c = parseImageConfig(await images.ctx.content.read(rec.id, MAX_CONFIG_BYTES), `image config ${rec.id}`).config;
        config = {
          ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
          ...(c.cmd ? { Cmd: c.cmd } : {}),
          Env: c.env,
          ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
          ...(c.user ? { User: c.user } : {}),
          ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
          Volumes: Object.fromEntries(c.volumes.map((v) => [v, {}])),
        };
        configs.set(rec.id, config);
      }
      const digestedRef = digestedReference(rec, asked || ref);
      const out: ResolvedImage = { id: rec.id, chainIds: rec.layers.map((l) => l.chainId), config, digestedRef };
      return out;
    },
    lowerDirs: (chainIds) => images.ctx.layers.lowerDirs(chainIds),
    layersDir: images.ctx.layers.dir,
    volumeImage(ref, asked) {
      const rec = images.find(ref);
      return rec && { id: rec.id, chainIds: rec.layers.map((l) => l.chainId), imageRef: digestedReference(rec, asked || ref) };
    },
    collect: () => images.ctx.gc(),
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
  store: Store,
  pods: PodService,
  images: ImageService,
  handlers: { specs: readonly HandlerSpec[]; probed: ReadonlyMap<string, ProbedHandler>; ready: Promise<void> },
  events?: Publisher<ContainerEventResponse>,
  rebooted?: string,
): Promise<{ service: ContainerService; oci: OciRuntime }> {
  const mode = detectCgroupMode();
  const driver = config.runtime.cgroupDriver || defaultCgroupDriver();
  const [hierarchies, oci] = await Promise.all([
    cgroupHierarchies(),
    OciRuntime.open({
      stateDir: config.state,
      runcPath: config.runtime.runcPath,
      conmonPath: config.runtime.conmonPath,
      systemdCgroup: driver === "systemd",
      // Every handler, usable or not: containers are only created on usable ones (pods are refused
      // otherwise), and one made before a restart must still be reached through its own root.
      handlers: handlers.specs.map((h) => ({ name: h.name, path: runtimeBinary(h), root: h.runtimeRoot, options: h.options })),
    }),
  ]);
  try {
    const [cgroups, facts] = await Promise.all([
      openCgroupDriver({ name: driver, defaultParent: config.pods.cgroupParent, hierarchies, mode }),
      readHostFacts(oci.runc.path, mode, hierarchies),
    ]);
    const service = await ContainerService.open({
      store: new ContainerStore(store),
      oci,
      pods: podLookup(pods),
      images: imageLookup(images),
      cgroups,
      hierarchies,
      facts,
      dirs: { bundles: join(config.state, "containers"), data: images.paths.containers, imageVolumes: join(config.root, "image-volumes") },
      createTimeoutMs: CREATE_TIMEOUT_MS,
      ...(events ? { events } : {}),
      handlers: handlers.probed,
      handlersReady: handlers.ready,
      cdi: new CdiRegistry(config.cdi.specDirs),
      ...(rebooted ? { rebooted } : {}),
    });
    images.ctx.layers.addUser((chainId) => service.ctx.layerInUse(chainId));
    const dirs = { bundles: join(config.state, "containers"), data: images.paths.containers, exits: oci.dirs.exitDir, socks: oci.dirs.socketDir };
    const sweep = async (): Promise<void> => void (await sweepContainerDirs(dirs, () => new Set(service.ctx.deps.store.all().map((r) => r.id))));
    await sweep();
    images.onCollect(sweep);
    pods.setContainerHooks(service);
    return { service, oci };
  } catch (err) {
    oci.close();
    throw err;
  }
}
