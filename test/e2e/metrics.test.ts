// The Prometheus endpoint end to end: after a real pull and a pod with a running container,
// /metrics (scraped and strictly parsed) shows the CRI, pull, state, conmon and process series.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { status as grpc, type ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { startDaemon } from "../fixtures/daemon.js";
import { valueOf } from "../fixtures/prom-text.js";
import { ctrEnv, runCtr, sharedRegistry, stopCtr, type Registry } from "./containers-kit.js";
import { listeningPorts, METRICS_ON, metricsAddress, scrape } from "./metrics-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

test("/metrics after a pull and a pod run: CRI calls, pulls, pods, containers, conmon, process", async (t) => {
  const env = await ctrEnv(t, r, { env: METRICS_ON }); // pulls busybox
  const { d } = env;
  const address = await metricsAddress(d);
  assert.match(address, /^127\.0\.0\.1:\d+$/, "loopback");
  // One GetContainerEvents subscriber, so the event bus publishes (it skips building events for nobody).
  const stream = d.client.runtime.getContainerEvents({});
  const got: unknown[] = [];
  stream.on("data", (e: unknown) => got.push(e));
  stream.on("error", () => undefined); // the cancel below
  for (let i = 0; valueOf((await scrape(address)).families, "berth_event_subscribers") !== 1; i++) {
    assert.ok(i < 250, "the subscriber shows in berth_event_subscribers");
    await new Promise((res) => setTimeout(res, 20));
  }
  const { id } = await runCtr(env, { command: ["sleep", "1000"] });
  const c = d.client;
  await assert.rejects(call(c, c.runtime, c.runtime.containerStatus, { containerId: "no-such-container", verbose: false }), (e: ServiceError) => e.code === grpc.NOT_FOUND);

  let { families: m, type } = await scrape(address);
  assert.match(type, /^text\/plain; version=0\.0\.4/);
  const types = Object.fromEntries([...m.values()].map((f) => [f.name, f.type]));
  assert.equal(types["berth_cri_request_duration_seconds"], "histogram");
  assert.equal(types["berth_cri_request_errors_total"], "counter");
  assert.equal(types["berth_image_pull_duration_seconds"], "histogram");
  assert.equal(types["berth_image_pull_bytes_total"], "counter");
  for (const g of ["berth_image_pulls_in_progress", "berth_image_pull_layer_downloaded_bytes", "berth_image_pull_layer_size_bytes", "berth_pods", "berth_containers", "berth_conmon_processes", "berth_streaming_sessions"])
    assert.equal(types[g], "gauge", g);

  assert.equal(valueOf(m, "berth_cri_request_duration_seconds_count", { rpc: "PullImage" }), 1);
  assert.equal(valueOf(m, "berth_cri_request_duration_seconds_count", { rpc: "RunPodSandbox" }), 1);
  assert.equal(valueOf(m, "berth_cri_request_duration_seconds_count", { rpc: "StartContainer" }), 1);
  assert.equal(valueOf(m, "berth_cri_request_duration_seconds_count", { rpc: "ContainerStatus" }), 1);
  assert.equal(valueOf(m, "berth_cri_request_errors_total", { rpc: "ContainerStatus", code: "NOT_FOUND" }), 1);
  assert.equal(m.get("berth_cri_request_errors_total")!.samples.length, 1, "only the failed call counts as an error");

  assert.equal(valueOf(m, "berth_image_pulls_total", { result: "success" }), 1);
  assert.equal(valueOf(m, "berth_image_pulls_total", { result: "failure" }), 0);
  assert.equal(valueOf(m, "berth_image_pulls_in_progress"), 0);
  assert.equal(valueOf(m, "berth_image_pull_duration_seconds_count", { result: "success" }), 1);
  const layerBytes = r.busybox.layers.reduce((n, l) => n + l.size, 0);
  assert.equal(valueOf(m, "berth_image_pull_bytes_total"), layerBytes, "every compressed layer byte, once");

  assert.equal(valueOf(m, "berth_pods", { state: "ready" }), 1);
  assert.equal(valueOf(m, "berth_pods", { state: "notready" }), 0);
  assert.equal(valueOf(m, "berth_containers", { state: "running" }), 1);
  assert.equal(valueOf(m, "berth_containers", { state: "created" }), 0);
  assert.equal(valueOf(m, "berth_containers", { state: "exited" }), 0);
  assert.equal(valueOf(m, "berth_conmon_processes"), 1);
  for (const kind of ["exec", "attach", "port_forward"]) assert.equal(valueOf(m, "berth_streaming_sessions", { kind }), 0);
  assert.equal(types["berth_events_published_total"], "counter");
  assert.ok(valueOf(m, "berth_events_published_total") >= 2, "created and started, at least");
  assert.equal(valueOf(m, "berth_events_dropped_total"), 0);
  assert.equal(valueOf(m, "berth_event_subscribers_cut_off_total"), 0);
  stream.cancel();

  assert.ok(valueOf(m, "process_resident_memory_bytes") > 10e6);
  assert.ok(valueOf(m, "nodejs_heap_size_used_bytes") > 1e6);
  assert.ok(valueOf(m, "nodejs_eventloop_lag_seconds") >= 0);

  await stopCtr(d, id, 1n);
  ({ families: m } = await scrape(address));
  assert.equal(valueOf(m, "berth_containers", { state: "running" }), 0);
  assert.equal(valueOf(m, "berth_containers", { state: "exited" }), 1);
  assert.equal(valueOf(m, "berth_conmon_processes"), 0);
  // Server streams are observed too: the cancelled GetContainerEvents ends as CANCELLED.
  for (let i = 0; !m.get("berth_cri_request_errors_total")!.samples.some((x) => x.labels["rpc"] === "GetContainerEvents"); i++) {
    assert.ok(i < 250, "the cancelled stream is counted");
    await new Promise((res) => setTimeout(res, 20));
    ({ families: m } = await scrape(address));
  }
  assert.equal(valueOf(m, "berth_cri_request_errors_total", { rpc: "GetContainerEvents", code: "CANCELLED" }), 1);
  assert.equal(valueOf(m, "berth_cri_request_duration_seconds_count", { rpc: "GetContainerEvents" }), 1);

  assert.equal((await fetch(`http://${address}/`)).status, 404);
  assert.equal((await fetch(`http://${address}/metrics`, { method: "POST" })).status, 405);
  assert.equal((await fetch(`http://${address}/metrics`, { method: "POST", body: "x" })).status, 413);
});

test("metrics are off with an empty metrics.address, and the endpoint closes at shutdown", async () => {
  // The streaming server is the daemon's other TCP listener: off here, so metrics' absence shows.
  const off = await startDaemon({ env: { BERTH_METRICS_ADDRESS: "", BERTH_STREAMING_ADDRESS: "" } });
  try {
    assert.deepEqual(await listeningPorts(off.proc.pid!), [], "no TCP listener");
    assert.doesNotMatch(off.logs(), /metrics listening/);
  } finally {
    await off.stop();
  }
  const on = await startDaemon({ env: { ...METRICS_ON, BERTH_STREAMING_ADDRESS: "" } });
  const address = await metricsAddress(on);
  assert.deepEqual(await listeningPorts(on.proc.pid!), [Number(address.split(":")[1])], "the one TCP listener is the metrics endpoint");
  await scrape(address);
  assert.equal(await on.stop(), 0);
  await assert.rejects(fetch(`http://${address}/metrics`), (e: Error) => /ECONNREFUSED/.test(String((e.cause as Error | undefined)?.message ?? e)));
});
