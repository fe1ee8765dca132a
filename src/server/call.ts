// Wraps every CRI handler the same way: log the call with its duration, turn a BerthError
// into its gRPC status, and never let an unexpected throw crash the daemon or hang a call.
import { Metadata, status, type ServerUnaryCall, type sendUnaryData, type handleUnaryCall } from "@grpc/grpc-js";
import { BerthError, Code, describe } from "../errors.js";
import { grpcStatus } from "./status.js";
import type { CallObserver } from "../util/call-observer.js";
import { diskFullError } from "../util/disk-full.js";
import { logger } from "../util/log.js";

const log = logger("cri");

export interface CallContext {
  /** Aborted when the client cancels or its deadline passes. */
  signal: AbortSignal;
  /** Milliseconds left before the client's deadline, less REPLY_MARGIN_MS (Infinity when none). */
  remainingMs(): number;
}

/**
 * How much earlier than its deadline header says a call counts as out of time: the caller's clock
 * started first (it sent a timeout, which Berth counts from receipt) and an answer needs time to
 * reach it. Without it a CreateContainer that finished in that last instant was answered to a caller
 * already gone, and its retry found the name taken instead of getting the container.
 */
const REPLY_MARGIN_MS = 5;

/** The call's context and `end` (clears its deadline timer once the call answered). */
function contextOf(rpc: string, call: ServerUnaryCall<unknown, unknown>): { ctx: CallContext; end(): void } {
  const ac = new AbortController();
  const deadline = call.getDeadline();
  const at = (deadline instanceof Date ? deadline.getTime() : deadline) - REPLY_MARGIN_MS;
  const hasDeadline = Number.isFinite(at) && at > 0;
  const expired = (): void => ac.abort(new BerthError(Code.DEADLINE_EXCEEDED, `${rpc}: the caller's deadline passed; what the call started was stopped and undone`));
  // grpc-js also reports a passed deadline as 'cancelled' (once it has answered DEADLINE_EXCEEDED).
  call.on("cancelled", () => (hasDeadline && at <= Date.now() ? expired() : ac.abort(new BerthError(Code.CANCELLED, `${rpc}: call cancelled by the client`))));
  // Our own timer too, not only that event: what the call started (a runtime process it waits for)
  // is stopped and undone when the caller stops waiting.
  const timer = hasDeadline ? setTimeout(expired, Math.max(0, at - Date.now())) : undefined;
  timer?.unref();
  return {
    ctx: { signal: ac.signal, remainingMs: () => (hasDeadline ? at - Date.now() : Infinity) },
    end: () => clearTimeout(timer),
  };
}


const UNOBSERVED = { run: <T>(fn: () => T): T => fn(), end: () => undefined };
let observer: CallObserver = { begin: () => UNOBSERVED };

export function setCallObserver(o: CallObserver | undefined): void {
  observer = o ?? { begin: () => UNOBSERVED };
}

/** The observer server-streaming calls report to as well (src/server/stream.ts). */
export function callObserver(): CallObserver {
  return observer;
}

export function unary<Req, Res>(rpc: string, fn: (req: Req, callContext: CallContext) => Promise<Res> | Res): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const started = process.hrtime.bigint();
    const watch = observer.begin(rpc);
    const done = (err: BerthError | null, res?: Res) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      watch.end(err ? grpcStatus(err.code) : status.OK);
      if (err) {
        const level = err.code === Code.INTERNAL || err.code === Code.UNKNOWN ? "error" : "debug";
        log[level]({ rpc, ms, code: err.code, err: err.message }, "call failed");
        const md = new Metadata();
        callback({ code: grpcStatus(err.code), details: err.message, metadata: md }, null);
      } else {
        log.debug({ rpc, ms }, "call");
        callback(null, res);
      }
    };
    let callContext: ReturnType<typeof contextOf>;
    try {
      callContext = contextOf(rpc, call as ServerUnaryCall<unknown, unknown>);
    } catch (err) {
      done(new BerthError(Code.INTERNAL, `${rpc}: ${describe(err)}`));
      return;
    }
    Promise.resolve()
      .then(() => watch.run(() => fn(call.request, callContext.ctx)))
      .finally(() => callContext.end())
      .then(
        (res) => done(null, res),
        (err: unknown) => done(toBerthError(rpc, err)),
      );
  };
}

export function toBerthError(rpc: string, err: unknown): BerthError {
  const full = diskFullError(err, rpc);
  if (full) return full;
  if (err instanceof BerthError) return err;
  log.error({ rpc, err }, "unexpected error");
  return new BerthError(Code.INTERNAL, `${rpc}: ${describe(err)}`);
}
