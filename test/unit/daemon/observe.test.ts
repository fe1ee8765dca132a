// "No cost when off": with tracing and metrics off, loading the whole daemon and starting its
// observers loads no OpenTelemetry or prom-client module; turning each on loads it.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const DIST = resolve(import.meta.dirname, "../../../src");

/** Starts tracing and the observers in a fresh Node that records every module URL it loads. */
async function loaded(env: NodeJS.ProcessEnv, metricsAddress: string): Promise<string[]> {
  const script = `
    import { registerHooks } from "node:module";
    const seen = [];
    registerHooks({ load(url, ctx, next) { seen.push(url); return next(url, ctx); } });
    const { startObservers, startTracing } = await import(${JSON.stringify("file://" + join(DIST, "daemon/observe.js"))});
    await import(${JSON.stringify("file://" + join(DIST, "daemon/daemon.js"))});
    const tracer = await startTracing(process.env);
    const fake = { on() {}, off() {} };
    const obs = await startObservers(${JSON.stringify(metricsAddress)}, { pods: {}, containers: {}, pulls: fake, events: {} });
    await obs.close();
    await tracer?.close();
    process.stdout.write(JSON.stringify(seen.filter((u) => /@opentelemetry|prom-client/.test(u))));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { env: { PATH: process.env["PATH"], ...env } });
  return JSON.parse(stdout) as string[];
}

test("off: neither OpenTelemetry nor prom-client is loaded", async () => {
  assert.deepEqual(await loaded({}, ""), []);
});

test("on: each loads only its own packages", async () => {
  const tracing = await loaded({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" }, "");
  assert.ok(tracing.some((u) => u.includes("@opentelemetry/sdk-trace")), "the tracing SDK");
  assert.ok(!tracing.some((u) => u.includes("prom-client")));
  const metrics = await loaded({}, "127.0.0.1:0");
  assert.ok(metrics.some((u) => u.includes("prom-client")), "prom-client");
  // prom-client itself depends on @opentelemetry/api (for exemplars), never on the SDK.
  assert.ok(!metrics.some((u) => /@opentelemetry\/(sdk|exporter|resources)/.test(u)));
});
