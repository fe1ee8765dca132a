// What every container RPC shares: the drivers and services it calls (through small
// interfaces), the directories, the in-memory index (persisted on each change) and per-container locks.
import type { PodCgroupDriver } from "../oci/cgroups-driver.js";
import type { Hierarchy } from "../oci/cgroups-hierarchies.js";
import type { ProbedHandler } from "../oci/handlers.js";
import type { OciRuntime } from "../oci/runtime.js";
import type { Pod } from "../pods/record.js";
import { resolveId } from "../util/ids.js";
import { KeyedMutex } from "../util/lock.js";
import { notFound } from "../errors.js";
import type { HostFacts } from "./host/facts.js";
import { ImageVolumes, type VolumeImages } from "./image-volumes.js";
import type { CdiRegistry } from "./cdi/registry.js";
import type { ImageConfig } from "./spec/index.js";
import { heldLayers, isVisible, type Container } from "./record.js";
import type { ContainerStore } from "./store.js";
import type { ContainerEventResponse, PodSandboxStatus } from "../generated/runtime/v1/api.js";
import type { Publisher } from "../util/fanout.js";

/** The part of the pod service containers use. */
export interface PodLookup {
  /** A visible pod by ID or unique prefix; NotFound otherwise. */
  get(ref: string): Pod;
  find(id: string): Pod | undefined;
  /** Every visible pod (stats). */
  all(): Pod[];
  /** A visible pod's CRI status (events); undefined once it is gone. */
  sandboxStatus(id: string): PodSandboxStatus | undefined;
}

/** An image as a container needs it. */
export interface ResolvedImage {
  id: string;
  chainIds: string[];
  config: ImageConfig;
  /** "name@sha256:<manifest digest>" (the ID when the image has no name): ContainerStatus's image_ref. */
  digestedRef: string;
}

/** The part of the image service containers use. */
export interface ImageLookup extends VolumeImages {
  /** The image a reference names (tag, digest, ID or prefix); NotFound when not pulled. `asked`: the
   * name the user gave (kubelet's user_specified_image), whose repository the digested ref prefers. */
  resolve(ref: string, asked?: string): Promise<ResolvedImage>;
  /** Overlay lower dirs for the layers (bottom first in), topmost first. */
  lowerDirs(chainIds: readonly string[]): string[];
  /** The layer store's directory (a rootfs whose absolute lowerdirs overflow a page is mounted from there, relative). */
  layersDir: string;
}

export interface ContainerDeps {
  store: ContainerStore;
  oci: OciRuntime;
  pods: PodLookup;
  images: ImageLookup;
  cgroups: PodCgroupDriver;
  hierarchies: Hierarchy[];
  facts: HostFacts;
  dirs: {
    /** Bundles: <state>/containers/<id>. */
    bundles: string;
    /** Writable layers and persist files: <root>/containers/<id>. */
    data: string;
    /** Image volumes, one read-only overlay per image: <root>/image-volumes/<id>. */
    imageVolumes: string;
  };
  /** How long CreateContainer waits for runc create under conmon. */
  createTimeoutMs: number;
  /** Where lifecycle events go (GetContainerEvents). */
  events?: Publisher<ContainerEventResponse>;
  /** Runtime handlers by name as probed at start (features decide e.g. rro per pod); a handler's entry is there once `handlersReady(name)` resolves. */
  handlers: ReadonlyMap<string, ProbedHandler>;
  handlersReady: (handler: string) => Promise<void>;
  /** CDI spec directories; absent: a container asking for CDI devices is refused. */
  cdi?: CdiRegistry;
  /** Set when the host rebooted since the records were written (why): no recorded pid is trusted. */
  rebooted?: string;
}

/** Told of every container saved, dropped or loaded (lifecycle events); set by the service. */
export interface ContainerWatcher {
  changed(c: Container, removed: boolean): void;
  loaded(c: Container): void;
}

export class ContainerContext {
  watcher: ContainerWatcher = { changed: () => undefined, loaded: () => undefined };
  readonly containers = new Map<string, Container>();
  readonly locks = new KeyedMutex();
  /** pod/name/attempt keys of CreateContainer calls in flight (two at once must not both win). */
  readonly creating = new Set<string>();
  /** Containers made after their CreateContainer caller had gone (deadline, cancel): its retry gets them. */
  readonly unclaimed = new Set<string>();
  /** Layer ChainIDs under some container's rootfs, counted, so image GC keeps them. */
  private readonly layerUse = new Map<string, number>();
  private volumes: ImageVolumes | undefined;

  constructor(readonly deps: ContainerDeps) {}

  save(c: Container): void {
    delete c.listed;
    if (!this.containers.has(c.rec.id)) this.useLayers(heldLayers(c.rec), 1);
    this.deps.store.put(c.rec);
    this.containers.set(c.rec.id, c);
    this.watcher.changed(c, false);
  }

  drop(c: Container): void {
    this.unclaimed.delete(c.rec.id);
    this.deps.store.delete(c.rec.id);
    if (this.containers.delete(c.rec.id)) {
      this.useLayers(heldLayers(c.rec), -1);
      this.watcher.changed(c, true);
    }
  }

  /** Indexes a record loaded from the store (no write). */
  load(c: Container): void {
    if (!this.containers.has(c.rec.id)) this.useLayers(heldLayers(c.rec), 1);
    this.containers.set(c.rec.id, c);
    this.watcher.loaded(c);
  }

  /** The node's image volumes (made on first use). */
  get imageVolumes(): ImageVolumes {
    this.volumes ??= new ImageVolumes(this.deps.dirs.imageVolumes, this.deps.images, (id, except) => {
      for (const c of this.containers.values()) if (c.rec.id !== except && c.rec.imageVolumes?.some((v) => v.id === id)) return true;
      return false;
    });
    return this.volumes;
  }

  layerInUse(chainId: string): boolean {
    return (this.layerUse.get(chainId) ?? 0) > 0;
  }

  private useLayers(chainIds: readonly string[], delta: number): void {
    for (const id of chainIds) {
      const n = (this.layerUse.get(id) ?? 0) + delta;
      if (n > 0) this.layerUse.set(id, n);
      else this.layerUse.delete(id);
    }
  }

  /** A visible container by full ID or unique prefix; undefined when there is none. */
  find(ref: string): Container | undefined {
    const exact = this.containers.get(ref);
    if (exact) return isVisible(exact) ? exact : undefined;
    const visible: string[] = [];
    for (const c of this.containers.values()) if (isVisible(c)) visible.push(c.rec.id);
    const id = resolveId(visible, ref, "container");
    return id === undefined ? undefined : this.containers.get(id);
  }

  get(ref: string): Container {
    const c = this.find(ref);
    if (!c) throw notFound("container", ref);
    return c;
  }

  ofPod(podId: string): Container[] {
    return [...this.containers.values()].filter((c) => c.rec.podId === podId);
  }
}
