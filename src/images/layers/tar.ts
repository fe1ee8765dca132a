// A layer blob's bytes → its uncompressed tar, for the applier: gzip/zstd/none by media type,
// a cap on decompressed bytes (bombs), and errors that say which layer was bad and how.
import { PassThrough, type Readable, type Writable } from "node:stream";
import zlib from "node:zlib";
import { BerthError, Code, describe, invalid } from "../../errors.js";
import { ByteLimit, compressionOf } from "../unpack/decompress.js";

// Larger output chunks than zlib's 16 KiB default: fewer hand-offs to the unpack worker.
const CHUNK = 256 * 1024;

/** Where a layer's compressed bytes come from: a stream, or a feeder that writes them (reusing buffers). */
export interface LayerBlob {
  stream(): Readable;
  /** Writes the blob into a decompressor and ends it (or destroys it with the error). */
  feed(dest: Writable): void;
}

/**
 * The uncompressed tar of `blob`. A failure anywhere (the download, corrupt compressed data,
 * the cap) destroys the returned stream with a BerthError naming `what`.
 */
export function layerTar(blob: LayerBlob, mediaType: string, maxBytes: number, what: string): Readable {
  const compression = compressionOf(mediaType);
  const limit = new ByteLimit(maxBytes, what);
  let failed = false;
  const stops: (() => void)[] = [];
  const fail = (err: unknown, fromInflate: boolean): void => {
    if (failed) return;
    failed = true;
    let e: BerthError;
    if (err instanceof BerthError) e = err;
    else if (fromInflate) e = invalid(`${what} is not valid ${compression} data: ${describe(err)}`);
    else e = new BerthError(Code.INTERNAL, `${what}: ${describe(err)}`, { cause: err });
    for (const s of stops) s();
    limit.destroy(e);
  };
  limit.on("error", (err) => fail(err, false));
  if (compression === "none") {
    const src = blob.stream();
    src.on("error", (err) => fail(err, false));
    stops.push(() => src.destroy());
    limit.on("close", () => src.destroy());
    src.pipe(limit);
    return limit;
  }
  const inflate = compression === "gzip" ? zlib.createGunzip({ chunkSize: CHUNK }) : zlib.createZstdDecompress({ chunkSize: CHUNK });
  // The feeder puts download failures (BerthErrors) and file errors on the decompressor too.
  inflate.on("error", (err) => fail(err, isCodecError(err)));
  stops.push(() => inflate.destroy());
  limit.on("close", () => inflate.destroy());
  inflate.pipe(limit);
  blob.feed(inflate);
  return limit;
}

/** zlib ("Z_DATA_ERROR", "Z_BUF_ERROR") and zstd ("ZSTD_error_…") complaints about the data. */
function isCodecError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("Z_") || code.startsWith("ZSTD_"));
}
