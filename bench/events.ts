// Event latency: 100 running busybox containers (one per pod, as kubelet's pods mostly are) killed
// one after another, then 100 more at once; each STOPPED event timed from the kill and from the exit.
import { mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { call } from "../src/cli/client.js";
import { ContainerConfig, ContainerEventType, CreateContainerRequest, type ContainerEventResponse } from "../src/generated/runtime/v1/api.js";
import { startDaemon } from "../test/fixtures/daemon.js";
import { pushBusybox } from "../test/fixtures/images.js";
import { startRegistry, writeHostsToml } from "../test/fixtures/registry.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import { summary } from "./stats.js";
import type { Emit } from "./emit.js";

const N = 100;
const nowMs = () => performance.timeOrigin + performance.now();

export async function eventsBench(emit: Emit): Promise<void> {
  const id = Math.random().toString(16).slice(2, 8);
  const cgroupParent = `/berth-bench-${id}`;
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-certsd-"));
  await writeHostsToml(certsD, reg);
  const image = (await pushBusybox(reg)).reference;
  const d = await startDaemon({
    toml: `[pods]\ncgroup_parent = "${cgroupParent}"\n[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "registries.conf")}"\n`,
    args: ["--log-level", process.env["BENCH_LOG_LEVEL"] ?? "info"],
  });
  const c = d.client;
  const pods: string[] = [];
  const stream = c.runtime.getContainerEvents({});
  try {
    const waiters = new Map<string, (at: number, e: ContainerEventResponse) => void>();
    stream.on("data", (e: ContainerEventResponse) => {
      if (e.containerEventType === ContainerEventType.CONTAINER_STOPPED_EVENT) waiters.get(e.containerId)?.(nowMs(), e);
    });
    stream.on("error", () => undefined);
    await new Promise((r) => stream.once("metadata", r));
    const spec = { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" };
    await call(c, c.image, c.image.pullImage, { image: spec, auth: undefined, sandboxConfig: undefined }, 60_000);
    const make = async (i: number) => {
      // Host network: no CNI, so setting up 100 pods stays cheap; events do not depend on it.
      const podReq = podRequest({ name: `events-bench-${i % N}`, hostNetwork: true });
      const pod = (await call(c, c.runtime, c.runtime.runPodSandbox, podReq, 60_000)).podSandboxId;
      if (!pods.includes(pod)) pods.push(pod);
      const config = ContainerConfig.fromPartial({ metadata: { name: `c${i}`, attempt: 0 }, image: { image }, command: ["sleep", "100000"] });
      const ctr = (await call(c, c.runtime, c.runtime.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: pod, config, sandboxConfig: podReq.config }), 60_000)).containerId;
      await call(c, c.runtime, c.runtime.startContainer, { containerId: ctr }, 60_000);
      const info = (await call(c, c.runtime, c.runtime.containerStatus, { containerId: ctr, verbose: true })).info["info"]!;
      return { ctr, pid: (JSON.parse(info) as { pid: number }).pid };
    };
    const make10 = async (from: number) => Promise.all(Array.from({ length: Math.min(10, 2 * N - from) }, (_, j) => make(from + j)));
    const ctrs: Array<{ ctr: string; pid: number }> = [];
    // Pod i holds containers i and N+i: the pods exist before their second containers come.
    // The first pod alone: pods made at once under a new cgroup parent failed with ENOSPC (cgroup v1 cpuset race?).
    ctrs.push(await make(0));
    for (let i = 1; i < 2 * N; i += 10) ctrs.push(...(await make10(i)));

    const fromExit: number[] = [];
    const fromKill: number[] = [];
    const measure = (x: { ctr: string; pid: number }) =>
      new Promise<void>((resolve) => {
        const killedAt = nowMs();
        waiters.set(x.ctr, (at, e) => {
          waiters.delete(x.ctr);
          const fin = Number(e.containersStatuses.find((s) => s.id === x.ctr)?.finishedAt ?? 0n) / 1e6;
          fromExit.push(at - fin);
          fromKill.push(at - killedAt);
          resolve();
        });
        process.kill(x.pid, "SIGKILL");
      });
    // One at a time: each exit alone.
    for (const x of ctrs.slice(0, N)) await measure(x);
    const s = summary(fromExit.sort((a, b) => a - b));
    const k = summary(fromKill.sort((a, b) => a - b));
    emit("events_exit_to_event_p50", s.p50, "ms");
    emit("events_exit_to_event_p99", s.p99, "ms");
    emit("events_kill_to_event_p50", k.p50, "ms");
    emit("events_kill_to_event_p99", k.p99, "ms");
    // All at once: 100 exits in a burst.
    fromExit.length = 0;
    fromKill.length = 0;
    await Promise.all(ctrs.slice(N).map(measure));
    const b = summary(fromExit.sort((a, z) => a - z));
    emit("events_burst100_exit_to_event_p50", b.p50, "ms");
    emit("events_burst100_exit_to_event_p99", b.p99, "ms");
  } finally {
    stream.cancel();
    for (const pod of pods) {
      await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: pod }, 120_000).catch(() => undefined);
      await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: pod }, 120_000).catch(() => undefined);
    }
    await d.stop();
    await reg.stop();
    await rm(certsD, { recursive: true, force: true });
    for (const h of await readdir("/sys/fs/cgroup")) await rmdir(join("/sys/fs/cgroup", h, cgroupParent)).catch(() => undefined);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const emit: Emit = (name, value, unit) => process.stdout.write(`${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}\n`);
  await eventsBench(emit);
}
