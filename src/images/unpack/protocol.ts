// The messages between the daemon thread and an unpack worker: one job at a time, its tar bytes
// either in transferred chunks acknowledged one by one (flow control) or read by the worker from
// a blob file as the daemon says how far it may read, then one outcome.
import { BerthError, Code, describe } from "../../errors.js";
import type { Compression } from "./decompress.js";
import type { ApplyJob, ApplyResult, ApplyStats } from "./limits.js";

/** A blob file the worker reads (by an fd the daemon holds open) and decompresses itself. */
export interface BlobJob {
  fd: number;
  compression: Compression;
  /** Cap on decompressed bytes. */
  maxBytes: number;
  /** Names the layer in errors. */
  what: string;
}

export type ToWorker =
  | { t: "job"; job: ApplyJob; blob?: BlobJob }
  | { t: "chunk"; data: Uint8Array }
  /** Blob jobs: bytes [0, upTo) of the file are written. */
  | { t: "avail"; upTo: number }
  /** The input is complete (for a blob job: its digest matched). */
  | { t: "end" }
  | { t: "abort"; reason: string };

export type FromWorker =
  | { t: "ack" }
  | { t: "done"; result: ApplyResult & ApplyStats }
  | { t: "fail"; code: Code; message: string };

// Filesystem errors caused by the layer's shape are bad input; others (ENOSPC, EIO) are ours.
const INPUT_ERRNOS = new Set(["ENAMETOOLONG", "ENOTDIR", "ELOOP", "EEXIST", "EISDIR", "EINVAL", "EMLINK", "ENOENT", "EPERM"]);

/** An error from the applier as a message that becomes a BerthError again on the other side. */
export function failure(err: unknown): Extract<FromWorker, { t: "fail" }> {
  if (err instanceof BerthError) return { t: "fail", code: err.code, message: err.message };
  const errno = (err as NodeJS.ErrnoException | null)?.code;
  if (errno && INPUT_ERRNOS.has(errno)) {
    return { t: "fail", code: Code.INVALID_ARGUMENT, message: `layer could not be applied: ${describe(err)}` };
  }
  if (err instanceof Error && /tar|header|Unexpected end/i.test(err.message)) {
    return { t: "fail", code: Code.INVALID_ARGUMENT, message: `layer is not a valid tar archive: ${err.message}` };
  }
  return { t: "fail", code: Code.INTERNAL, message: `layer could not be applied: ${describe(err)}` };
}
