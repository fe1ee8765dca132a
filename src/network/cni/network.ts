// Berth's libcni: attaches a pod's netns to the default network by running the plugin chain
// (ADD in order with prevResult, DEL in reverse from the cached result and config, CHECK).
import { rm, statfs } from "node:fs/promises";
import { failedPrecondition } from "../../errors.js";
import { logger } from "../../util/log.js";
import { findCaches, listCacheFiles, readCache, removeCache, writeCache, type CacheEntry } from "./cache.js";
import { NetworkConfigSource } from "./config.js";
import { DEFAULT_PLUGIN_TIMEOUT_MS, execPlugin } from "./exec.js";
import { podIps, type PodIps } from "./result.js";
import { capabilityArgs, cniArgs, pluginNetconf, type CapabilityInput, type PodRef } from "./runtime-args.js";
import type { CapabilityArgs, CniResult, JsonObject, NetConfList } from "./types.js";

const log = logger("cni");

const NSFS_MAGIC = 0x6e736673;
export const POD_IFNAME = "eth0";

export interface CniOptions {
  confDirs: readonly string[];
  binDirs: readonly string[];
  /** Per pod+network records of what ADD did; must survive daemon restarts. */
  cacheDir: string;
  pluginTimeoutMs?: number;
}

export interface PodNetwork extends PodRef, CapabilityInput {
  /** The pinned network namespace path. */
  netns: string;
}

export interface AttachResult {
  network: string;
  configFile: string;
  result: CniResult;
  ips: PodIps;
}

export type NetworkStatus = { ready: true; network: string } | { ready: false; reason: "NetworkPluginNotReady"; message: string };

export class CniNetwork {
  readonly config: NetworkConfigSource;
  private readonly timeoutMs: number;

  constructor(private readonly opts: CniOptions) {
    this.config = new NetworkConfigSource(opts.confDirs);
    this.timeoutMs = opts.pluginTimeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  }

  /** For CRI Status: NetworkReady is false until a valid config exists (re-read on change only). */
  async status(): Promise<NetworkStatus> {
    const load = await this.config.current();
    if (load.kind === "ok") return { ready: true, network: load.network.list.name };
    return { ready: false, reason: "NetworkPluginNotReady", message: `Network plugin returns error: cni config uninitialized: ${load.reason}` };
  }

  /**
   * Brings `lo` up (loopback plugin) and runs ADD through the default network's chain. On any
   * failure it runs DEL for the whole chain and drops the cache, so nothing is left behind.
   */
  async setUp(pod: PodNetwork): Promise<AttachResult> {
    const load = await this.config.current();
    if (load.kind === "none") throw failedPrecondition(`cannot set up network for pod ${pod.namespace}/${pod.name}: ${load.reason}`);
    const { list, file } = load.network;
    const entry: Omit<CacheEntry, "kind"> = {
      containerId: pod.id,
      ifName: POD_IFNAME,
      networkName: list.name,
      netns: pod.netns,
      cniArgs: cniArgs(pod),
      capabilityArgs: capabilityArgs(pod),
      config: list,
      configFile: file,
    };
    // Recorded before ADD so a crash mid-ADD still leaves DEL something to run.
    await writeCache(this.opts.cacheDir, entry);

    let last: CniResult | undefined;
    const chain = (async () => {
      for (const plugin of list.plugins) {
        const r = await this.exec(entry, "ADD", list, plugin, entry.netns, last);
        if (r) last = r;
      }
    })();
    // lo is independent of eth0, so it comes up while the chain runs.
    const lo = execPlugin({
      binDirs: this.opts.binDirs,
      type: "loopback",
      command: "ADD",
      containerId: pod.id,
      netns: pod.netns,
      ifName: "lo",
      args: entry.cniArgs,
      netconf: { cniVersion: "1.0.0", name: "cni-loopback", type: "loopback" },
      timeoutMs: this.timeoutMs,
    });
    const [c, l] = await Promise.allSettled([chain, lo]);
    const failure = c.status === "rejected" ? c.reason : l.status === "rejected" ? l.reason : undefined;
    if (failure !== undefined || !last) {
      const err = failure ?? failedPrecondition(`network "${list.name}" (${file}) returned no result for pod ${pod.namespace}/${pod.name}`);
      try {
        await this.runDel({ ...entry, kind: "berth-cni-cache-v1", result: last });
        await removeCache(this.opts.cacheDir, list.name, pod.id, POD_IFNAME);
      } catch (delErr) {
        // Keep what ADD got so far, so the DEL kubelet retries through StopPodSandbox has it.
        if (last) await writeCache(this.opts.cacheDir, { ...entry, result: last }).catch(() => undefined);
        log.warn({ pod: pod.id, err: (delErr as Error).message }, "cleanup DEL after failed ADD also failed; cache kept for a later DEL");
      }
      throw err;
    }
    await writeCache(this.opts.cacheDir, { ...entry, result: last });
    return { network: list.name, configFile: file, result: last, ips: podIps(last, POD_IFNAME) };
  }

  /** CHECK against the config and result recorded at ADD (skipped when the config disables it or predates 0.4.0). */
  async check(pod: PodRef & { netns: string }): Promise<void> {
    const entries = await findCaches(this.opts.cacheDir, pod.id, POD_IFNAME);
    if (entries.length === 0) throw failedPrecondition(`pod ${pod.namespace}/${pod.name} (${pod.id}) has no recorded network attachment to check`);
    for (const e of entries) {
      if (e.config.disableCheck || versionBefore(e.config.cniVersion, "0.4.0")) continue;
      if (!e.result) throw failedPrecondition(`pod ${pod.id}: network "${e.networkName}" ADD never completed`);
      for (const plugin of e.config.plugins) await this.exec(e, "CHECK", e.config, plugin, pod.netns, e.result);
    }
  }

  /**
   * DEL for every network the pod was attached to, from the cache (config and result as ADD
   * used them). Idempotent: no cache means DEL with the live config, a gone netns means an
   * empty CNI_NETNS so IPAM still frees the address. The cache goes only when DEL succeeded.
   */
  async tearDown(pod: PodRef & { netns?: string }): Promise<void> {
    let entries = await findCaches(this.opts.cacheDir, pod.id, POD_IFNAME);
    if (entries.length === 0) {
      const load = await this.config.current();
      if (load.kind === "none") {
        log.info({ pod: pod.id }, "no CNI cache and no network config: nothing to tear down");
        return;
      }
      const { list, file } = load.network;
      entries = [
        {
          kind: "berth-cni-cache-v1",
          containerId: pod.id,
          ifName: POD_IFNAME,
          networkName: list.name,
          netns: pod.netns ?? "",
          cniArgs: cniArgs(pod),
          capabilityArgs: {},
          config: list,
          configFile: file,
        },
      ];
    }
    for (const e of entries) {
      await this.runDel({ ...e, netns: pod.netns ?? e.netns });
      await removeCache(this.opts.cacheDir, e.networkName, pod.id, POD_IFNAME);
    }
  }

  /** Whether a cached attachment exists (for recovery after restart). */
  async hasAttachment(pod: PodRef, network: string): Promise<boolean> {
    return (await readCache(this.opts.cacheDir, network, pod.id, POD_IFNAME)) !== undefined;
  }

  /**
   * GC of entries whose pod is gone (removed while Berth was down, a kill mid-teardown): DEL from
   * the entry itself (its config and result, so IPAM frees the address and the veth goes), then
   * the entry. `knownPods` is asked after the listing: a pod's record is saved before its entry
   * is written and dropped only after its entry is gone, so a pod being set up is always known.
   */
  async collectOrphans(knownPods: () => Set<string>): Promise<number> {
    const files = await listCacheFiles(this.opts.cacheDir);
    if (files.length === 0) return 0;
    const known = knownPods();
    let removed = 0;
    for (const f of files) {
      if (known.has(f.containerId)) continue;
      const e = f.entry;
      try {
        if (e) await this.runDel(e);
        else log.warn({ pod: f.containerId, file: f.path }, "unreadable CNI cache entry of a pod Berth no longer has: removing it without DEL");
        await rm(f.path, { force: true });
        removed++;
        if (e) log.info({ pod: e.containerId, network: e.networkName, ips: e.result ? podIps(e.result, e.ifName) : undefined }, "CNI GC: ran DEL for a pod Berth no longer has and removed its cache entry");
      } catch (err) {
        log.warn({ pod: f.containerId, network: e?.networkName, err: (err as Error).message }, "CNI GC: DEL for a pod Berth no longer has failed; entry kept for the next collection");
      }
    }
    return removed;
  }

  private async runDel(e: CacheEntry): Promise<void> {
    const netns = (await isNamespace(e.netns)) ? e.netns : "";
    const errors: unknown[] = [];
    // Every plugin gets its DEL even if one fails, so one broken plugin does not leak an IP.
    for (const plugin of [...e.config.plugins].reverse()) {
      try {
        await this.exec(e, "DEL", e.config, plugin, netns, e.result);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw errors[0];
  }

  private exec(
    e: { containerId: string; ifName: string; cniArgs: string; capabilityArgs: CapabilityArgs },
    command: "ADD" | "DEL" | "CHECK",
    list: NetConfList,
    plugin: NetConfList["plugins"][number],
    netns: string,
    prev: CniResult | undefined,
  ): Promise<CniResult | undefined> {
    // DEL of a config older than 0.4.0 gets no prevResult (the spec added it in 0.4.0).
    const prevResult = command === "DEL" && versionBefore(list.cniVersion, "0.4.0") ? undefined : (prev as JsonObject | undefined);
    return execPlugin({
      binDirs: this.opts.binDirs,
      type: plugin.type,
      command,
      containerId: e.containerId,
      netns,
      ifName: e.ifName,
      args: e.cniArgs,
      netconf: pluginNetconf(list, plugin, e.capabilityArgs, prevResult),
      timeoutMs: this.timeoutMs,
    });
  }
}

async function isNamespace(path: string): Promise<boolean> {
  if (!path) return false;
  try {
    return (await statfs(path)).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

function versionBefore(v: string, than: string): boolean {
  const a = v.split(".").map(Number);
  const b = than.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}
