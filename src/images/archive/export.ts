// `berth image export`: an image as an OCI image layout tar (oci-layout, index.json, blobs),
// streamed from the content store; the index names the image as containerd and skopeo expect.
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { BerthError, Code, describe, notFound } from "../../errors.js";
import type { ImageContext } from "../context.js";
import { MediaType } from "../registry/media-types.js";
import { splitDigest } from "../content/paths.js";

export interface ExportStream {
  image: string;
  stream: Readable;
}

/** Checks the image and its blobs are all present, then streams the archive. */
export async function exportArchive(ctx: ImageContext, input: string): Promise<ExportStream> {
  const m = ctx.images.find(input);
  if (!m) throw notFound("image", input);
  const img = m.image;
  const blobs = [img.manifestDigest, img.id, ...img.layers.map((l) => l.digest)];
  const sizes = new Map<string, number>();
  for (const d of blobs) {
    const size = await ctx.content.size(d);
    if (size === undefined) {
      throw new BerthError(Code.FAILED_PRECONDITION, `image ${img.id}: blob ${d} is not in the content store (pull the image again to export it)`);
    }
    sizes.set(d, size);
  }
  const release = ctx.blobLeases.acquire(blobs);
  const tag = m.by === "tag" && m.ref ? m.ref : img.repoTags[0];
  const annotations: Record<string, string> = {};
  if (tag) {
    annotations["io.containerd.image.name"] = tag;
    annotations["org.opencontainers.image.ref.name"] = tag.slice(tag.lastIndexOf(":") + 1);
  }
  const index = {
    schemaVersion: 2, mediaType: MediaType.ociIndex,
    manifests: [{ mediaType: img.manifestMediaType, digest: img.manifestDigest, size: sizes.get(img.manifestDigest), annotations }],
  };
  const pack = tar.pack();
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const add = (name: string, body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, size: body.length, mode: 0o644, mtime: new Date(0) }, body, (err) => (err ? reject(err) : resolve())));
  // A reader that goes away (client disconnect) closes `out`: stop packing, close the blob being
  // read and release the leases. The pack's own errors surface through write() and `out`.
  let finalized = false;
  let gone: Error | undefined;
  let reading: Readable | undefined;
  pack.on("error", () => {});
  out.on("close", () => {
    if (finalized) return;
    gone = new BerthError(Code.CANCELLED, `exporting image ${img.id}: the reader went away`);
    reading?.destroy(gone);
    pack.destroy(gone);
  });
  const write = async (): Promise<void> => {
    await add("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
    for (const d of new Set(blobs)) {
      if (gone) throw gone;
      const { alg, hex } = splitDigest(d);
      const entry = pack.entry({ name: `blobs/${alg}/${hex}`, size: sizes.get(d)!, mode: 0o644, mtime: new Date(0) });
      reading = ctx.content.open(d);
      await pipeline(reading, entry);
    }
    if (gone) throw gone;
    await add("index.json", Buffer.from(JSON.stringify(index)));
    finalized = true;
    pack.finalize();
  };
  pack.pipe(out);
  write().catch((err: unknown) => {
    out.destroy(new BerthError(Code.INTERNAL, `exporting image ${img.id}: ${describe(err)}`, { cause: err }));
    pack.destroy();
  }).finally(release);
  return { image: img.id, stream: out };
}
