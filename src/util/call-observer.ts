// What watches every CRI call (metrics, tracing): the server reports to it, the observers
// implement it; kept here so neither side imports the other.
import type { status } from "@grpc/grpc-js";

/** Watches every call: `begin` at the start, `run` around the handler, `end` with the gRPC code. */
export interface CallObserver {
  begin(rpc: string): { run<T>(fn: () => T): T; end(code: status): void };
}
