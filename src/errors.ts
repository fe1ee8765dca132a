// The one error type every layer throws: a kind chosen for what the caller (kubelet) does with
// it, and a message that names the object and what to do. Only src/server/ maps kinds to gRPC.
/**
 * Error kinds, as containerd's errdefs: each name is the gRPC status the server answers with
 * (src/server/status.ts), but no layer below the server knows gRPC.
 */
export const Code = {
  CANCELLED: "Cancelled",
  UNKNOWN: "Unknown",
  INVALID_ARGUMENT: "InvalidArgument",
  DEADLINE_EXCEEDED: "DeadlineExceeded",
  NOT_FOUND: "NotFound",
  ALREADY_EXISTS: "AlreadyExists",
  PERMISSION_DENIED: "PermissionDenied",
  RESOURCE_EXHAUSTED: "ResourceExhausted",
  FAILED_PRECONDITION: "FailedPrecondition",
  ABORTED: "Aborted",
  UNIMPLEMENTED: "Unimplemented",
  INTERNAL: "Internal",
  UNAVAILABLE: "Unavailable",
  DATA_LOSS: "DataLoss",
  UNAUTHENTICATED: "Unauthenticated",
} as const;
export type Code = (typeof Code)[keyof typeof Code];
export type CodeName = keyof typeof Code;

const NAMES = new Map<Code, CodeName>(Object.entries(Code).map(([name, kind]) => [kind, name as CodeName]));

/** The constant name of a kind ("NOT_FOUND"): what the server and the CLI map to a gRPC status. */
export function codeName(kind: Code): CodeName {
  return NAMES.get(kind) ?? "UNKNOWN";
}

/** A kind from a string that crossed a process boundary (worker, archive socket); Unknown when it is none. */
export function asCode(value: unknown): Code {
  return typeof value === "string" && NAMES.has(value as Code) ? (value as Code) : Code.UNKNOWN;
}

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
