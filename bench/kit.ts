// What the pod benchmarks share: the bench's own CNI bridge network, a timed pod start with one
// container (RunPodSandbox + CreateContainer + StartContainer, as kubelet does) and its removal.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { call, type CriClient } from "../src/cli/client.js";
import { CreateContainerRequest, type ContainerConfig, type RunPodSandboxRequest } from "../src/generated/runtime/v1/api.js";
import { startDaemon, type Daemon, type DaemonOptions } from "../test/fixtures/daemon.js";
import { pushBusybox } from "../test/fixtures/images.js";
import { startRegistry, writeHostsToml, type FixtureRegistry } from "../test/fixtures/registry.js";

export interface BridgeNetwork {
  name: string;
  bridge: string;
  subnet: string;
  portmap?: boolean;
}

/** A bridge network (no masquerade, IPAM in the daemon's temp dir) as the daemon's only CNI config. */
export async function writeBridgeNetwork(d: Daemon, o: BridgeNetwork): Promise<void> {
  await writeBridgeConflist(join(d.dir, "net.d"), join(d.dir, "ipam"), o);
}

/** The same conflist for any runtime: 10-bench.conflist in confDir, host-local IPAM state in ipamDir. */
export async function writeBridgeConflist(confDir: string, ipamDir: string, o: BridgeNetwork): Promise<void> {
  await mkdir(confDir, { recursive: true });
  const bridge = { type: "bridge", bridge: o.bridge, isGateway: true, ipMasq: false, hairpinMode: false, ipam: { type: "host-local", ranges: [[{ subnet: o.subnet }]], dataDir: ipamDir } };
  const plugins = o.portmap ? [bridge, { type: "portmap", capabilities: { portMappings: true } }] : [bridge];
  await writeFile(join(confDir, "10-bench.conflist"), JSON.stringify({ cniVersion: "1.0.0", name: o.name, plugins }));
}

const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";

/** A bench's host: the loopback registry with busybox pushed, a daemon on its own cgroup parent and bridge network. */
export interface BenchHost {
  d: Daemon;
  reg: FixtureRegistry;
  /** The pushed busybox reference (not yet pulled). */
  image: string;
  id: string;
  /** The daemon's pods.cgroup_parent (removed by close). */
  cgroupParent: string;
  /** Undoes it all: daemon, registry, hosts.toml dir, bridge, cgroup parent, ip_forward as it was. */
  close(): Promise<void>;
}

/** Sets up a BenchHost; `tag` names its bridge (`b<tag><id>`) and network, `daemon` adds options to the daemon's. */
export async function openBenchHost(tag: string, o: { subnet: string; portmap?: boolean; daemon?: Omit<DaemonOptions, "toml"> }): Promise<BenchHost> {
  const id = Math.random().toString(16).slice(2, 8);
  const bridge = `b${tag}${id}`;
  const cgroupParent = `/berth-bench-${id}`;
  const ipForward = (await readFile(IP_FORWARD, "utf8")).trim();
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-certsd-"));
  const close = async (d?: Daemon): Promise<void> => {
    await d?.stop();
    await reg.stop();
    await rm(certsD, { recursive: true, force: true });
    await promisify(execFile)("ip", ["link", "del", bridge]).catch(() => undefined);
    for (const h of await readdir("/sys/fs/cgroup")) await rmdir(join("/sys/fs/cgroup", h, cgroupParent)).catch(() => undefined);
    await writeFile(IP_FORWARD, ipForward);
  };
  let d: Daemon | undefined;
  try {
    await writeHostsToml(certsD, reg);
    const image = (await pushBusybox(reg)).reference;
    d = await startDaemon({
      ...o.daemon,
      toml: `[pods]\ncgroup_parent = "${cgroupParent}"\n[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "registries.conf")}"\n`,
    });
    await writeBridgeNetwork(d, { name: `berth-bench-${tag}-${id}`, bridge, subnet: o.subnet, ...(o.portmap ? { portmap: true } : {}) });
    const started = d;
    return { d: started, reg, image, id, cgroupParent, close: () => close(started) };
  } catch (err) {
    await close(d);
    throw err;
  }
}

/** Runs the pod and one started container in it; `ms` is the whole run-to-started time. */
export async function startPodWithContainer(d: Daemon, podReq: RunPodSandboxRequest, config: ContainerConfig): Promise<{ pod: string; ctr: string; ms: number }> {
  const t = await startPodTimed(d.client, podReq, config);
  return { pod: t.pod, ctr: t.ctr, ms: t.total };
}

export interface PodStartTimes {
  pod: string;
  ctr: string;
  /** RunPodSandbox, CreateContainer, StartContainer and their sum, as the client saw them (ms). */
  run: number;
  create: number;
  start: number;
  total: number;
  /** performance.now() when StartContainer answered. */
  startedAt: number;
}

/** RunPodSandbox + CreateContainer + StartContainer through any CRI client, each call timed. */
export async function startPodTimed(c: CriClient, podReq: RunPodSandboxRequest, config: ContainerConfig): Promise<PodStartTimes> {
  const t0 = performance.now();
  const pod = (await call(c, c.runtime, c.runtime.runPodSandbox, podReq, 60_000)).podSandboxId;
  const t1 = performance.now();
  const ctr = (await call(c, c.runtime, c.runtime.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: pod, config, sandboxConfig: podReq.config }), 60_000)).containerId;
  const t2 = performance.now();
  await call(c, c.runtime, c.runtime.startContainer, { containerId: ctr }, 60_000);
  const t3 = performance.now();
  return { pod, ctr, run: t1 - t0, create: t2 - t1, start: t3 - t2, total: t3 - t0, startedAt: t3 };
}

/** StopPodSandbox then RemovePodSandbox. */
export async function removePod(d: Daemon, id: string): Promise<void> {
  await removePodVia(d.client, id);
}

/** StopPodSandbox then RemovePodSandbox through any CRI client. */
export async function removePodVia(c: CriClient, id: string): Promise<void> {
  await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: id }, 60_000);
  await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: id }, 60_000);
}
