// Starts what watches the daemon: OpenTelemetry tracing when the OTEL_* environment asks for it,
// and the Prometheus endpoint when metrics.address is set. Each is loaded only when on.
import { status } from "@grpc/grpc-js";
import type { MetricsSources } from "../metrics/setup.js";
import { setCallObserver } from "../server/call.js";
import type { CallObserver } from "../util/call-observer.js";
import { traceSettings } from "../trace/env.js";
import { setTraceBackend, startSpan, tracing } from "../trace/span.js";
import { logger } from "../util/log.js";

const log = logger("daemon");

/** Tracing first, so the services' own spans (recovery included) are traced; throws on a bad OTEL_* value. */
export async function startTracing(env: NodeJS.ProcessEnv): Promise<{ close(): Promise<void> } | undefined> {
  const settings = traceSettings(env);
  if (!settings) return undefined;
  const { createTraceBackend } = await import("../trace/otel.js");
  const backend = createTraceBackend(settings, env);
  setTraceBackend(backend);
  log.info({ exporter: settings.exporter }, "tracing on");
  return {
    async close() {
      setTraceBackend(undefined);
      await backend.shutdown();
    },
  };
}

const traceCalls: CallObserver = {
  begin(rpc) {
    const span = startSpan(`CRI ${rpc}`, { "rpc.system": "grpc", "rpc.method": rpc });
    return {
      run: (fn) => span.run(fn),
      end(code) {
        span.setAttribute("rpc.grpc.status_code", code);
        span.end(code === status.OK ? undefined : `gRPC status ${status[code] ?? code}`);
      },
    };
  },
};

function both(a: CallObserver, b: CallObserver): CallObserver {
  return {
    begin(rpc) {
      const x = a.begin(rpc);
      const y = b.begin(rpc);
      return {
        run: (fn) => x.run(() => y.run(fn)),
        end(code) {
          y.end(code);
          x.end(code);
        },
      };
    },
  };
}

/** Metrics (if an address is set) and the CRI call observer; returns what to close at shutdown. */
export async function startObservers(address: string, src: MetricsSources): Promise<{ metrics?: string; close(): Promise<void> }> {
  const metrics = address === "" ? undefined : await (await import("../metrics/setup.js")).startMetrics(address, src);
  const observers = [...(tracing() ? [traceCalls] : []), ...(metrics ? [metrics.observer] : [])];
  setCallObserver(observers.reduce<CallObserver | undefined>((acc, o) => (acc ? both(acc, o) : o), undefined));
  if (metrics) log.info({ address: metrics.address }, "metrics listening");
  return {
    ...(metrics ? { metrics: metrics.address } : {}),
    async close() {
      setCallObserver(undefined);
      await metrics?.close();
    },
  };
}
