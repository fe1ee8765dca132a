// A layer blob's bytes → what the applier reads: the blob file itself, which the unpack worker
// decompresses (gzip/zstd/none by media type) under a cap on decompressed bytes (bombs).
import { BlobInput, type GrowingBlob } from "../unpack/apply.js";
import { compressionOf } from "../unpack/decompress.js";

/**
 * The layer input for `blob` (a download in progress or done). Its bytes are decompressed and
 * applied in the unpack worker as they land; the apply ends only once the digest matched, and
 * fails with the download's error, or INVALID_ARGUMENT naming `what` for corrupt data or a bomb.
 * Measured (bench pull, 210 MB of gzip layers): p50 1170 → 880 ms against decompressing in the
 * daemon thread and posting copies of the tar to the worker.
 */
export function layerTar(blob: GrowingBlob, mediaType: string, maxBytes: number, what: string): BlobInput {
  return new BlobInput(blob, compressionOf(mediaType), maxBytes, what);
}
