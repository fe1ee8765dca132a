// Turns a layer blob's media type into the stream that yields its uncompressed tar, with a cap
// on decompressed bytes, because a few KiB of gzip or zstd can expand to terabytes (a bomb).
import { PassThrough, Transform, type Readable, type TransformCallback } from "node:stream";
import zlib from "node:zlib";
import { pipeline } from "node:stream/promises";
import { invalid } from "../../errors.js";

export type Compression = "none" | "gzip" | "zstd";

/** Every layer media type Berth unpacks, and how its bytes are compressed (OCI media-types.md). */
export const LAYER_MEDIA_TYPES: ReadonlyMap<string, Compression> = new Map<string, Compression>([
  ["application/vnd.oci.image.layer.v1.tar", "none"],
  ["application/vnd.oci.image.layer.v1.tar+gzip", "gzip"],
  ["application/vnd.oci.image.layer.v1.tar+zstd", "zstd"],
  ["application/vnd.oci.image.layer.nondistributable.v1.tar", "none"],
  ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip"],
  ["application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", "zstd"],
  ["application/vnd.docker.image.rootfs.diff.tar", "none"],
  ["application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"],
  ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "gzip"],
]);

/** How a layer of this media type is compressed; INVALID_ARGUMENT for a type Berth cannot unpack. */
export function compressionOf(mediaType: string): Compression {
  const c = LAYER_MEDIA_TYPES.get(mediaType);
  if (c === undefined) {
    throw invalid(
      `layer media type "${mediaType}" is not supported: expected one of ${[...LAYER_MEDIA_TYPES.keys()].join(", ")}`,
    );
  }
  return c;
}

/** A Transform from the layer blob's bytes to its uncompressed tar. */
export function decompressor(mediaType: string): Transform {
  switch (compressionOf(mediaType)) {
    case "gzip":
      return zlib.createGunzip();
    case "zstd":
      // libzstd's default window limit (2^27 = 128 MiB) stays: it bounds the decoder's memory
      // against frames that ask for a huge window.
      return zlib.createZstdDecompress();
    case "none":
      return new PassThrough();
  }
}

/** Passes bytes through and fails with INVALID_ARGUMENT once more than maxBytes have passed. */
export class ByteLimit extends Transform {
  #seen = 0;
  constructor(
    readonly maxBytes: number,
    readonly what: string,
  ) {
    super();
  }
  get bytes(): number {
    return this.#seen;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.maxBytes) {
      cb(invalid(`${this.what} exceeds the limit of ${this.maxBytes} uncompressed bytes (a decompression bomb?)`));
      return;
    }
    cb(null, chunk);
  }
}

/**
 * The uncompressed tar of a layer blob: blob → decompressor → ByteLimit. An error anywhere
 * (corrupt data, the cap) destroys the returned stream with that error.
 */
export function decompressLayer(blob: Readable, mediaType: string, maxBytes: number, what = "layer"): Readable {
  const limit = new ByteLimit(maxBytes, what);
  pipeline(blob, decompressor(mediaType), limit).catch((err: unknown) => {
    if (!limit.destroyed) limit.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return limit;
}
