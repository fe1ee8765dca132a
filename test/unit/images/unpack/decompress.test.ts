// Layer decompression by media type: gzip, zstd and plain tar give the same bytes; unknown
// types are refused by name; the byte cap stops a bomb.
import { Code } from "../../../../src/errors.js";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { test } from "node:test";
import zlib from "node:zlib";
import { ByteLimit, compressionOf, decompressLayer, decompressor } from "../../../../src/images/unpack/decompress.js";

const data = Buffer.from("layer bytes ".repeat(10_000));
const OCI = "application/vnd.oci.image.layer.v1.tar";

test("gzip, zstd and plain layers decompress to the same bytes", async () => {
  const cases: [string, Buffer][] = [
    [OCI, data],
    [`${OCI}+gzip`, zlib.gzipSync(data)],
    [`${OCI}+zstd`, zlib.zstdCompressSync(data)],
    ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", zlib.gzipSync(data)],
    ["application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", zlib.zstdCompressSync(data)],
    ["application/vnd.docker.image.rootfs.diff.tar.gzip", zlib.gzipSync(data)],
    ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", zlib.gzipSync(data)],
  ];
  for (const [mediaType, blob] of cases) {
    assert.ok((await buffer(Readable.from([blob]).pipe(decompressor(mediaType)))).equals(data), mediaType);
    assert.ok((await buffer(decompressLayer(Readable.from([blob]), mediaType, data.length))).equals(data), mediaType);
  }
  assert.equal(compressionOf(`${OCI}+zstd`), "zstd");
});

test("an unknown media type is INVALID_ARGUMENT naming it", () => {
  assert.throws(
    () => decompressor("application/vnd.oci.image.layer.v1.tar+bzip2"),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, Code.INVALID_ARGUMENT);
      assert.match(err.message, /layer media type "application\/vnd\.oci\.image\.layer\.v1\.tar\+bzip2" is not supported/);
      return true;
    },
  );
});

test("the cap fails a stream that expands past it, with a clear error", async () => {
  const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024));
  await assert.rejects(
    buffer(decompressLayer(Readable.from([bomb]), `${OCI}+gzip`, 1024 * 1024, "layer sha256:abc")),
    /layer sha256:abc exceeds the limit of 1048576 uncompressed bytes/,
  );
  const limit = new ByteLimit(10, "x");
  await assert.rejects(buffer(Readable.from([Buffer.alloc(11)]).pipe(limit)), /x exceeds the limit of 10/);
});

test("corrupt compressed data fails the stream", async () => {
  const bad = Buffer.from(zlib.gzipSync(data));
  bad[bad.length - 6] = (bad[bad.length - 6] ?? 0) ^ 0xff; // breaks the CRC
  await assert.rejects(buffer(decompressLayer(Readable.from([bad]), `${OCI}+gzip`, 1e9)));
  await assert.rejects(buffer(decompressLayer(Readable.from([Buffer.from("not zstd")]), `${OCI}+zstd`, 1e9)));
});
