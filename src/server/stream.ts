// Wraps every server-streaming CRI handler the way `unary` wraps the others: log the call with
// its duration and message count, map errors to gRPC statuses, honour back-pressure and cancel.
import { Metadata, status, type ServerWritableStream, type handleServerStreamingCall } from "@grpc/grpc-js";
import { BerthError, Code } from "../errors.js";
import { grpcStatus } from "./status.js";
import { logger } from "../util/log.js";
import { callObserver, toBerthError, type CallContext } from "./call.js";

const log = logger("cri");

/** One message at a time; write resolves once the transport takes more (a 'drain' after a full buffer). */
export interface StreamOut<Res> {
  write(msg: Res): Promise<void>;
  /** Sends the response headers now (a client then knows the call is being served). */
  ready(): void;
}

/** Items per message of the Stream* list RPCs (their responses carry repeated fields). */
export const STREAM_CHUNK = 100;

export function serverStream<Req, Res>(rpc: string, fn: (req: Req, out: StreamOut<Res>, callContext: CallContext) => Promise<void>): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const started = process.hrtime.bigint();
    const watch = callObserver().begin(rpc);
    let sent = 0;
    const ac = new AbortController();
    const cancelled = () => ac.abort(new BerthError(Code.CANCELLED, `${rpc}: call cancelled by the client`));
    call.on("cancelled", cancelled);
    const deadline = call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    const callContext: CallContext = { signal: ac.signal, remainingMs: () => (Number.isFinite(at) && at > 0 ? at - Date.now() : Infinity) };
    const out: StreamOut<Res> = {
      ready: () => call.sendMetadata(new Metadata()),
      write(msg) {
        if (ac.signal.aborted) return Promise.reject(ac.signal.reason as Error);
        sent++;
        if (call.write(msg)) return Promise.resolve();
        return new Promise((resolve, reject) => {
          const onDrain = () => {
            ac.signal.removeEventListener("abort", onAbort);
            resolve();
          };
          const onAbort = () => {
            call.off("drain", onDrain);
            reject(ac.signal.reason as Error);
          };
          call.once("drain", onDrain);
          ac.signal.addEventListener("abort", onAbort, { once: true });
        });
      },
    };
    const finish = (err: BerthError | null) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      call.off("cancelled", cancelled);
      watch.end(ac.signal.aborted ? status.CANCELLED : err ? grpcStatus(err.code) : status.OK);
      if (ac.signal.aborted) {
        log.debug({ rpc, ms, sent }, "stream ended by the client");
        return;
      }
      ac.abort(new BerthError(Code.CANCELLED, `${rpc}: ended`));
      if (err) {
        const level = err.code === Code.INTERNAL || err.code === Code.UNKNOWN ? "error" : "debug";
        log[level]({ rpc, ms, sent, code: err.code, err: err.message }, "stream failed");
        // grpc-js's stream turns an 'error' into the call's status, sent after the queued messages.
        call.emit("error", { code: grpcStatus(err.code), details: err.message });
      } else {
        log.debug({ rpc, ms, sent }, "stream");
        call.end();
      }
    };
    Promise.resolve()
      .then(() => watch.run(() => fn(call.request, out, callContext)))
      .then(
        () => finish(null),
        (err: unknown) => finish(ac.signal.aborted ? null : toBerthError(rpc, err)),
      );
  };
}

/** Writes items in messages of `size` (the Stream* list RPCs), waiting for the transport between them. */
export async function writeChunks<T, Res>(out: StreamOut<Res>, items: readonly T[], wrap: (chunk: T[]) => Res, size = STREAM_CHUNK): Promise<void> {
  for (let i = 0; i < items.length; i += size) await out.write(wrap(items.slice(i, i + size)));
}
