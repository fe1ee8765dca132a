// The OpenTelemetry side of the span facade, imported (dynamically) only when the OTEL_*
// environment turns tracing on: a tracer provider, its sampler and batch exporter from the env.
import { AsyncLocalStorage } from "node:async_hooks";
import { context, trace, SpanStatusCode, type Span } from "@opentelemetry/api";
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler, SimpleSpanProcessor,
  TraceIdRatioBasedSampler, TracerProvider, type Sampler, type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BERTH_VERSION } from "../version.js";
import { TraceEnvError, type TraceSettings } from "./env.js";
import type { SpanHandle, TraceBackend } from "./span.js";

export function createTraceBackend(settings: TraceSettings, env: NodeJS.ProcessEnv): TraceBackend {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override these defaults.
  const resource = resourceFromAttributes({ "service.name": "berth", "service.version": BERTH_VERSION }).merge(detectResources({ detectors: [envDetector] }));
  const processor: SpanProcessor =
    settings.exporter === "console"
      ? new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })
      : new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), ...batchOptions(env) });
  const provider = new TracerProvider({ resource, sampler: samplerFrom(env), spanProcessors: [processor] });
  const tracer = provider.getTracer("berth", BERTH_VERSION);
  // The facade's parent chain: the span whose run() we are inside, across awaits.
  const current = new AsyncLocalStorage<Span>();
  return {
    start(name, attributes): SpanHandle {
      const parent = current.getStore();
      const span = tracer.startSpan(name, { attributes }, parent ? trace.setSpan(context.active(), parent) : context.active());
      let ended = false;
      return {
        setAttribute: (k, v) => void span.setAttribute(k, v),
        run: (fn) => current.run(span, fn),
        end(error) {
          if (ended) return;
          ended = true;
          if (error !== undefined) {
            const message = error instanceof Error ? error.message : String(error);
            span.recordException(error instanceof Error ? error : message);
            span.setStatus({ code: SpanStatusCode.ERROR, message });
          }
          span.end();
        },
      };
    },
    shutdown: () => provider.shutdown(),
  };
}

function num(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new TraceEnvError(`${name}=${raw} is not a non-negative number`);
  return n;
}

type BatchLimits = "scheduledDelayMillis" | "exportTimeoutMillis" | "maxQueueSize" | "maxExportBatchSize";

function batchOptions(env: NodeJS.ProcessEnv): Partial<Record<BatchLimits, number>> {
  const o: Partial<Record<BatchLimits, number>> = {};
  const set = (key: BatchLimits, name: string) => {
    const v = num(env, name);
    if (v !== undefined) o[key] = v;
  };
  set("scheduledDelayMillis", "OTEL_BSP_SCHEDULE_DELAY");
  set("exportTimeoutMillis", "OTEL_BSP_EXPORT_TIMEOUT");
  set("maxQueueSize", "OTEL_BSP_MAX_QUEUE_SIZE");
  set("maxExportBatchSize", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
  return o;
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the specification defines them. */
function samplerFrom(env: NodeJS.ProcessEnv): Sampler {
  const name = (env["OTEL_TRACES_SAMPLER"] || "parentbased_always_on").trim().toLowerCase();
  const ratio = () => {
    const r = num(env, "OTEL_TRACES_SAMPLER_ARG") ?? 1;
    if (r > 1) throw new TraceEnvError(`OTEL_TRACES_SAMPLER_ARG=${r} is not a ratio from 0 to 1`);
    return new TraceIdRatioBasedSampler(r);
  };
  switch (name) {
    case "always_on": return new AlwaysOnSampler();
    case "always_off": return new AlwaysOffSampler();
    case "traceidratio": return ratio();
    case "parentbased_always_on": return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off": return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio": return new ParentBasedSampler({ root: ratio() });
    default:
      throw new TraceEnvError(`OTEL_TRACES_SAMPLER=${name} is not supported: use always_on, always_off, traceidratio or their parentbased_ forms`);
  }
}
