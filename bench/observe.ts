// Observability costs: Version RPC p50 and idle RSS with metrics and tracing off and on (tracing
// loaded but sampling nothing, and exporting every span), and /metrics scrape time with 100 containers.
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call } from "../src/cli/client.js";
import { ContainerConfig, CreateContainerRequest, ListContainersRequest } from "../src/generated/runtime/v1/api.js";
import { startDaemon, type Daemon } from "../test/fixtures/daemon.js";
import { pushBusybox } from "../test/fixtures/images.js";
import { startOtlpReceiver } from "../test/fixtures/otlp-receiver.js";
import { startRegistry, writeHostsToml } from "../test/fixtures/registry.js";
import { METRICS_ON, metricsAddress } from "../test/e2e/metrics-kit.js";
import { podRequest } from "../test/e2e/pods-kit.js";
import { rssMiB, summary } from "./stats.js";
import type { Emit } from "./emit.js";

const CALLS = 2000;
const CONTAINERS = 100;

async function versionP50(d: Daemon): Promise<number> {
  const c = d.client;
  for (let i = 0; i < 300; i++) await call(c, c.runtime, c.runtime.version, { version: "" });
  const lat: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await call(c, c.runtime, c.runtime.version, { version: "" });
    lat.push(performance.now() - t0);
  }
  return summary(lat).p50;
}

async function costs(emit: Emit): Promise<void> {
  const otlp = await startOtlpReceiver();
  const variants: [string, NodeJS.ProcessEnv][] = [
    ["off", {}],
    ["metrics_on", METRICS_ON],
    ["tracing_on_sampling_none", { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_TRACES_SAMPLER: "always_off" }],
    ["tracing_on_exporting", { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint }],
  ];
  try {
    for (const [name, env] of variants) {
      const d = await startDaemon({ env });
      try {
        await new Promise((r) => setTimeout(r, 1000));
        emit(`observe_idle_rss_${name}`, await rssMiB(d.proc.pid!), "MiB");
        emit(`observe_version_rpc_p50_${name}`, await versionP50(d), "ms");
      } finally {
        await d.stop();
      }
    }
    emit("observe_spans_received_exporting", otlp.spans.length, "spans");
  } finally {
    await otlp.close();
  }
}

async function scrapeWith100(emit: Emit): Promise<void> {
  const reg = await startRegistry();
  const certsD = await mkdtemp(join(tmpdir(), "berth-bench-obs-certsd-"));
  await writeHostsToml(certsD, reg);
  const image = (await pushBusybox(reg)).reference;
  const cgroupParent = `/berth-bench-obs-${process.pid}`;
  const d = await startDaemon({
    env: METRICS_ON,
    toml: `[pods]\ncgroup_parent = "${cgroupParent}"\n[registry]\nconfig_path = "${certsD}"\nregistries_conf = "${join(certsD, "registries.conf")}"\n`,
  });
  const c = d.client;
  let pod = "";
  try {
    const address = await metricsAddress(d);
    await call(c, c.image, c.image.pullImage, { image: { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, auth: undefined, sandboxConfig: undefined }, 60_000);
    // Host network: no CNI; created (not started) containers each hold a conmon and a runc init.
    const req = podRequest({ name: "obs-bench", hostNetwork: true });
    pod = (await call(c, c.runtime, c.runtime.runPodSandbox, req, 60_000)).podSandboxId;
    for (let i = 0; i < CONTAINERS; i++) {
      const config = ContainerConfig.fromPartial({ metadata: { name: `c${i}`, attempt: 0 }, image: { image }, command: ["sleep", "1000"] });
      await call(c, c.runtime, c.runtime.createContainer, CreateContainerRequest.fromPartial({ podSandboxId: pod, config, sandboxConfig: req.config }), 60_000);
    }
    const listed = await call(c, c.runtime, c.runtime.listContainers, ListContainersRequest.fromPartial({}));
    if (listed.containers.length !== CONTAINERS) throw new Error(`expected ${CONTAINERS} containers, have ${listed.containers.length}`);
    for (let i = 0; i < 20; i++) await (await fetch(`http://${address}/metrics`)).text();
    const lat: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      bytes = (await (await fetch(`http://${address}/metrics`)).text()).length;
      lat.push(performance.now() - t0);
    }
    const s = summary(lat);
    emit("observe_scrape_100_containers_p50", s.p50, "ms");
    emit("observe_scrape_100_containers_p99", s.p99, "ms");
    emit("observe_scrape_size", bytes, "bytes");
  } finally {
    if (pod) {
      await call(c, c.runtime, c.runtime.stopPodSandbox, { podSandboxId: pod }, 120_000).catch(() => undefined);
      await call(c, c.runtime, c.runtime.removePodSandbox, { podSandboxId: pod }, 120_000).catch(() => undefined);
    }
    await d.stop();
    await reg.stop();
    await rmdir(`/sys/fs/cgroup${cgroupParent}`).catch(() => undefined);
    await rm(certsD, { recursive: true, force: true });
  }
}

export async function observeBench(emit: Emit): Promise<void> {
  await costs(emit);
  await scrapeWith100(emit);
}
