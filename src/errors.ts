// The one error type every layer throws: a gRPC status code chosen for what kubelet does
// with it, and a message that names the object and what to do. The server maps it 1:1.
import { status } from "@grpc/grpc-js";

export const Code = status;
export type Code = status;

export class BerthError extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = "BerthError";
  }
}

export const notFound = (what: string, id: string): BerthError =>
  new BerthError(Code.NOT_FOUND, `${what} "${id}" not found`);
export const invalid = (message: string): BerthError => new BerthError(Code.INVALID_ARGUMENT, message);
export const failedPrecondition = (message: string): BerthError =>
  new BerthError(Code.FAILED_PRECONDITION, message);
export const deadlineExceeded = (message: string): BerthError =>
  new BerthError(Code.DEADLINE_EXCEEDED, message);
export const internal = (message: string, cause?: unknown): BerthError =>
  new BerthError(Code.INTERNAL, message, { cause });

/** A short text for any thrown value, for logs and wrapped messages. */
export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
