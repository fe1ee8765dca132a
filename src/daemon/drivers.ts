// Builds each driver once from config and the host probe: the CNI network, the one cgroup driver,
// the OCI runtime (runc + conmon) and the image parts (registry client, content and layer stores).
import { join } from "node:path";
import type { Config } from "../config/config.js";
import { ContentStore } from "../images/content/store.js";
import { LayerStore } from "../images/layers/store.js";
import { RegistryClient } from "../images/registry/client.js";
import { RegistryHosts } from "../images/registry/hosts.js";
import type { ImageDeps, ImagePaths } from "../images/service.js";
import { ImageStore } from "../images/store.js";
import { DEFAULT_APPLY_LIMITS } from "../images/unpack/apply.js";
import { removeStaleTemps } from "../network/cni/cache.js";
import { CniNetwork } from "../network/cni/network.js";
import { openCgroupDriver, type PodCgroupDriver } from "../oci/cgroups-driver.js";
import { runtimeBinary, type HandlerSpec } from "../oci/handlers.js";
import { OciRuntime } from "../oci/runtime.js";
import type { Store } from "../store/db.js";
import { logger } from "../util/log.js";
import type { Host } from "./host.js";

const log = logger("pods");

export function cniNetwork(config: Config): CniNetwork {
  return new CniNetwork({ confDirs: [config.network.confDir], binDirs: config.network.binDirs, cacheDir: join(config.root, "cni-cache") });
}

/** The one cgroup driver pods and containers share; first clears CNI cache temps a dead daemon left. */
export async function podDrivers(config: Config, host: Host): Promise<PodCgroupDriver> {
  // Nothing writes the CNI cache before the pod service serves: a temp file there is a dead daemon's.
  const stale = await removeStaleTemps(join(config.root, "cni-cache"));
  if (stale.length > 0) log.info({ files: stale }, "removed CNI cache temp files left by an interrupted write");
  return openCgroupDriver({ name: host.cgroupDriver, defaultParent: config.pods.cgroupParent, hierarchies: host.hierarchies, mode: host.cgroupMode });
}

export function imagePaths(config: Pick<Config, "root" | "state">): ImagePaths {
  return {
    content: join(config.root, "content"),
    layers: join(config.root, "layers"),
    containers: join(config.root, "containers"),
    progressSocket: join(config.state, "progress.sock"),
    archiveSocket: join(config.state, "images.sock"),
  };
}

/** Config's unpack keys as the applier's limits and the per-image budget. */
function unpackBudgets(u: Config["images"]["unpack"]): ImageDeps["unpack"] {
  return {
    limits: {
      ...DEFAULT_APPLY_LIMITS,
      maxBytes: u.maxLayerBytes,
      maxEntries: u.maxLayerEntries,
      maxInodes: u.maxLayerInodes,
      maxCompressionRatio: u.maxCompressionRatio,
      compressionRatioFloor: u.compressionRatioFloor,
      maxXattrsPerEntry: u.maxXattrsPerEntry,
      maxXattrsPerLayer: u.maxLayerXattrs,
    },
    imageMax: { bytes: u.maxImageBytes, entries: u.maxImageEntries, inodes: u.maxImageInodes },
  };
}

/** The image service's parts: registry client, content store, layer store, image table. */
export function imageDrivers(config: Config, store: Store): ImageDeps {
  const paths = imagePaths(config);
  return {
    paths,
    registry: new RegistryClient({
      stallTimeoutMs: config.registry.stallTimeoutMs,
      documentDeadlineMs: config.registry.documentDeadlineMs,
      hosts: new RegistryHosts({ configPath: config.registry.configPath, registriesConf: config.registry.registriesConf }),
    }),
    content: new ContentStore(paths.content, undefined, config.images.sync),
    layers: new LayerStore(paths.layers, store, config.images.sync),
    images: new ImageStore(store),
    maxConcurrentDownloads: config.registry.maxConcurrentDownloads,
    unpack: unpackBudgets(config.images.unpack),
    sandboxImage: config.images.sandboxImage,
    gcIntervalMs: config.images.gcIntervalMs,
  };
}

/** runc + conmon for every handler, usable or not: containers are only created on usable ones (pods
 * are refused otherwise), and one made before a restart must still be reached through its own root. */
export function openOciRuntime(config: Config, host: Host, specs: readonly HandlerSpec[]): Promise<OciRuntime> {
  return OciRuntime.open({
    stateDir: config.state,
    runcPath: config.runtime.runcPath,
    conmonPath: config.runtime.conmonPath,
    systemdCgroup: host.cgroupDriver === "systemd",
    handlers: specs.map((h) => ({ name: h.name, path: runtimeBinary(h), root: h.runtimeRoot, options: h.options })),
  });
}
