// Builds the pod service from the daemon's config: its store table, the cgroup driver the
// host (or config) calls for, the CNI driver, and the directories under the state dir.
import { join } from "node:path";
import type { Config } from "../config/config.js";
import { openCgroupDriver } from "../oci/cgroups-driver.js";
import { defaultCgroupDriver, systemdRunning } from "../oci/cgroups.js";
import type { Store } from "../store/db.js";
import type { ContainerEventResponse } from "../generated/runtime/v1/api.js";
import type { Publisher } from "../util/fanout.js";
import { logger } from "../util/log.js";
import type { PodNetworkDriver } from "./context.js";
import { PodService } from "./service.js";
import { PodStore } from "./store.js";

const log = logger("pods");

/** `names`: every runtime handler; `unusable`: those whose start-up probe failed, with why, filled once `ready` resolves. */
export interface PodHandlers {
  names: string[];
  unusable: ReadonlyMap<string, string>;
  ready: Promise<void>;
}

export async function openPodService(config: Config, store: Store, network: PodNetworkDriver, handlers: PodHandlers, events?: Publisher<ContainerEventResponse>): Promise<PodService> {
  const driver = config.runtime.cgroupDriver || defaultCgroupDriver();
  if (driver === "systemd" && !systemdRunning()) {
    log.warn("runtime.cgroup_driver is systemd but systemd is not running: RunPodSandbox will fail until it is set to cgroupfs");
  }
  const cgroups = await openCgroupDriver({ name: driver, defaultParent: config.pods.cgroupParent });
  return PodService.open({
    store: new PodStore(store),
    network,
    cgroups,
    dirs: { pins: join(config.state, "ns"), pods: join(config.state, "pods"), infraRoot: join(config.state, "infra", "root") },
    shmSize: config.pods.shmSize,
    defaultHandler: config.runtime.defaultHandler,
    knownHandlers: handlers.names,
    unusableHandlers: handlers.unusable,
    handlersReady: handlers.ready,
    ...(events ? { events } : {}),
  });
}
