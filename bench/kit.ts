// What the pod benchmarks share: the bench's own CNI bridge network, a timed pod start with one
// container (RunPodSandbox + CreateContainer + StartContainer, as kubelet does) and its removal.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { call } from "../src/cli/client.js";
import { CreateContainerRequest, type ContainerConfig, type RunPodSandboxRequest } from "../src/generated/runtime/v1/api.js";
import type { Daemon } from "../test/fixtures/daemon.js";

/** A bridge network (no masquerade, IPAM in the daemon's temp dir) as the daemon's only CNI config. */
export async function writeBridgeNetwork(d: Daemon, o: { name: string; bridge: string; subnet: string; portmap?: boolean }): Promise<void> {
  const confDir = join(d.dir, "net.d");
  await mkdir(confDir, { recursive: true });
  const bridge = { type: "bridge", bridge: o.bridge, isGateway: true, ipMasq: false, hairpinMode: false, ipam: { type: "host-local", ranges: [[{ subnet: o.subnet }]], dataDir: join(d.dir, "ipam") } };
  const plugins = o.portmap ? [bridge, { type: "portmap", capabilities: { portMappings: true } }] : [bridge];
  await writeFile(join(confDir, "10-bench.conflist"), JSON.stringify({ cniVersion: "1.0.0", name: o.name, plugins }));
}

/** Runs the pod and one started container in it; `ms` is the whole run-to-started time. */
export async function startPodWithContainer(d: Daemon, podReq: RunPodSandboxRequest, config: ContainerConfig): Promise<{ pod: string; ctr: string; ms: number }> {
  const c = d.client;
  const t0 = performance.now();
  const pod = (await call(c, c.runtime, c.runtime.runPodSandbox, podReq, 60_000)).podSandboxId;
  const ctr = (await call(c, c.runtime, c.runtime.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: pod, config, sandboxConfig: podReq.config }), 60_000)).containerId;
  await call(c, c.runtime, c.runtime.startContainer, { containerId: ctr }, 60_000);
  return { pod, ctr, ms: performance.now() - t0 };
}

/** StopPodSandbox then RemovePodSandbox. */
export async function removePod(d: Daemon, id: string): Promise<void> {
  const c = d.client;
  await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: id }, 60_000);
  await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: id }, 60_000);
}
