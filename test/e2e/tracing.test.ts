// Tracing end to end: a daemon started with the standard OTEL_* variables exports, over OTLP/HTTP
// JSON to a receiver on 127.0.0.1, spans for CRI calls with the pull, unpack, CNI and runc steps under them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { call } from "../../src/cli/client.js";
import { startDaemon } from "../fixtures/daemon.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../fixtures/otlp-receiver.js";
import { ctrEnv, runCtr, sharedRegistry, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
let otlp: OtlpReceiver;
before(async () => {
  r = await sharedRegistry();
  otlp = await startOtlpReceiver();
});
after(async () => {
  await otlp.close();
  await r.stop();
});

const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan, name: string) => spans.filter((s) => s.name === name && s.parentSpanId === parent.spanId && s.traceId === parent.traceId);

test("CRI calls, the pull and its unpacks, CNI and runc steps arrive as spans in one tree per call", async (t) => {
  const env = await ctrEnv(t, r, {
    env: { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_SERVICE_NAME: "berth-e2e", OTEL_BSP_SCHEDULE_DELAY: "50" },
  }); // pulls busybox
  await runCtr(env, { command: ["sleep", "1000"] });
  const c = env.d.client;
  await call(c, c.runtime, c.runtime.version, { version: "" });

  const spans = await otlp.waitFor((s) => ["CRI Version", "CRI StartContainer", "image unpack", "runc start"].every((n) => named(s, n).length > 0));
  const version = named(spans, "CRI Version")[0]!;
  assert.equal(version.resource["service.name"], "berth-e2e", "OTEL_SERVICE_NAME names the service");
  assert.equal(version.attributes["rpc.method"], "Version");
  assert.equal(version.attributes["rpc.system"], "grpc");
  assert.equal(version.parentSpanId, "", "a CRI call is a root span");

  const [pullCall] = named(spans, "CRI PullImage");
  assert.ok(pullCall, "the PullImage call");
  const [pull] = childrenOf(spans, pullCall, "image pull");
  assert.ok(pull, "the pull under its CRI call");
  assert.equal(pull.attributes["berth.image.ref"], r.busybox.reference);
  assert.equal(childrenOf(spans, pull, "image unpack").length, r.busybox.layers.length, "one unpack span per layer, under the pull");

  const [runPod] = named(spans, "CRI RunPodSandbox");
  assert.ok(runPod);
  assert.ok(childrenOf(spans, runPod, "cni ADD").length >= 1, "the CNI ADD under RunPodSandbox");
  const [create] = named(spans, "CRI CreateContainer");
  assert.ok(create && childrenOf(spans, create, "runc create").length === 1, "runc create (under conmon) under CreateContainer");
  const [start] = named(spans, "CRI StartContainer");
  assert.ok(start && childrenOf(spans, start, "runc start").length === 1, "runc start under StartContainer");
  for (const s of spans) assert.equal(s.statusCode === 2, false, `span ${s.name} failed`);
});

test("a bad OTEL_* value stops the daemon with a message naming it", async () => {
  await assert.rejects(startDaemon({ env: { OTEL_TRACES_EXPORTER: "zipkin" } }), /OTEL_TRACES_EXPORTER=zipkin is not supported: set one of otlp, console or none/);
});
