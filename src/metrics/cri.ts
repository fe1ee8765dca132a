// Per-RPC series for the CRI server: a latency histogram by RPC and an error counter by RPC and
// gRPC code, fed by the server's call observer.
import { status } from "@grpc/grpc-js";
import { Counter, Histogram, type Registry } from "prom-client";
import type { CallObserver } from "../util/call-observer.js";

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function criCallMetrics(registry: Registry): CallObserver {
  const duration = new Histogram({
    name: "berth_cri_request_duration_seconds",
    help: "Time to answer a CRI call, by RPC (every outcome).",
    labelNames: ["rpc"] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: "berth_cri_request_errors_total",
    help: "CRI calls answered with an error, by RPC and gRPC status code.",
    labelNames: ["rpc", "code"] as const,
    registers: [registry],
  });
  return {
    begin(rpc) {
      const started = process.hrtime.bigint();
      return {
        run: (fn) => fn(),
        end(code) {
          duration.observe({ rpc }, Number(process.hrtime.bigint() - started) / 1e9);
          if (code !== status.OK) errors.inc({ rpc, code: status[code] ?? String(code) });
        },
      };
    },
  };
}
