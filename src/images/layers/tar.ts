// A layer blob's bytes → its uncompressed tar, for the applier: gzip/zstd/none by media type,
// a cap on decompressed bytes (bombs), and errors that say which layer was bad and how.
import { PassThrough, type Readable } from "node:stream";
import zlib from "node:zlib";
import { BerthError, Code, describe, invalid } from "../../errors.js";
import { ByteLimit, compressionOf } from "../unpack/decompress.js";

// Larger output chunks than zlib's 16 KiB default: fewer hand-offs to the unpack worker.
const CHUNK = 256 * 1024;

/**
 * The uncompressed tar of `blob`. A failure anywhere (the download, corrupt compressed data,
 * the cap) destroys the returned stream with a BerthError naming `what`.
 */
export function layerTar(blob: Readable, mediaType: string, maxBytes: number, what: string): Readable {
  const compression = compressionOf(mediaType);
  const inflate =
    compression === "gzip" ? zlib.createGunzip({ chunkSize: CHUNK })
    : compression === "zstd" ? zlib.createZstdDecompress({ chunkSize: CHUNK })
    : new PassThrough({ highWaterMark: CHUNK });
  const limit = new ByteLimit(maxBytes, what);
  let failed = false;
  const fail = (err: unknown, fromInflate: boolean): void => {
    if (failed) return;
    failed = true;
    let e: BerthError;
    if (err instanceof BerthError) e = err;
    else if (fromInflate) e = invalid(`${what} is not valid ${compression} data: ${describe(err)}`);
    else e = new BerthError(Code.INTERNAL, `${what}: ${describe(err)}`, { cause: err });
    blob.destroy();
    inflate.destroy();
    limit.destroy(e);
  };
  blob.on("error", (err) => fail(err, false));
  inflate.on("error", (err) => fail(err, true));
  limit.on("error", (err) => fail(err, false));
  blob.pipe(inflate).pipe(limit);
  limit.on("close", () => {
    if (!blob.destroyed) blob.destroy();
  });
  return limit;
}
