// What the pod benchmarks share: the bench's own CNI bridge network, a timed pod start with one
// container (RunPodSandbox + CreateContainer + StartContainer, as kubelet does) and its removal.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { call, type CriClient } from "../src/cli/client.js";
import { CreateContainerRequest, type ContainerConfig, type RunPodSandboxRequest } from "../src/generated/runtime/v1/api.js";
import type { Daemon } from "../test/fixtures/daemon.js";

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
