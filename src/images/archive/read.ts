// Reads an image archive (OCI layout tar or `docker save` tarball) in one streaming pass: blobs
// go straight into the content store (verified), small JSON documents are kept; names are hostile.
import { posix } from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { invalid } from "../../errors.js";
import type { ContentStore } from "../content/store.js";

const MAX_ENTRIES = 100_000;
const MAX_DOC_BYTES = 4 * 1024 * 1024;
/** All JSON documents of one archive together (they are held in memory until the import ends). */
export const MAX_DOCS_TOTAL_BYTES = 32 * 1024 * 1024;
const MAX_BLOB_BYTES = 64 * 1024 ** 3;
const BLOB = /^blobs\/(sha256|sha512)\/([0-9a-f]{64}|[0-9a-f]{128})$/;
const DOCS = /^(index\.json|oci-layout|manifest\.json|repositories|[0-9a-f]{64}\.json)$/;
// docker save: <id>/layer.tar; skopeo docker-archive: <diffid>.tar.
const LEGACY_LAYER = /^([0-9a-f]{64}\/layer\.tar|[0-9a-f]{64}\.tar)$/;

export interface ArchiveContents {
  /** Small documents by archive path ("index.json", "manifest.json", "<hex>.json"). */
  docs: Map<string, Buffer>;
  /** Stored blobs by archive path (after following symlinks). */
  blobs: Map<string, string>;
}

/** An archive path made safe: relative, no "." or ".." parts; undefined if it is neither. */
function clean(name: string): string | undefined {
  const n = posix.normalize(name.replace(/^\.\/+/, ""));
  if (n.startsWith("/") || n === "." || n === ".." || n.startsWith("../")) return undefined;
  return n.replace(/\/$/, "");
}

/** Reads one document; `held` is what the documents kept so far take. */
async function readDoc(stream: AsyncIterable<unknown>, name: string, held: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const x of stream) {
    const c = x as Buffer;
    n += c.length;
    if (n > MAX_DOC_BYTES) throw invalid(`image archive: ${name} is larger than ${MAX_DOC_BYTES} bytes`);
    if (held + n > MAX_DOCS_TOTAL_BYTES) {
      throw invalid(`image archive: its JSON documents (index.json, manifest.json, <id>.json) total more than ${MAX_DOCS_TOTAL_BYTES} bytes at ${name}; refusing it (import fewer images per archive)`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/**
 * Consumes the archive. `onBlob` is told each stored digest as soon as it lands (the caller
 * leases it against GC). Entries Berth does not use are skipped.
 */
export async function readArchive(input: Readable, content: ContentStore, onBlob: (digest: string) => void): Promise<ArchiveContents> {
  const docs = new Map<string, Buffer>();
  const blobs = new Map<string, string>();
  const links = new Map<string, string>();
  const ex = tar.extract();
  input.on("error", (err) => ex.destroy(err));
  input.pipe(ex);
  let entries = 0;
  let docsBytes = 0;
  try {
    for await (const entry of ex) {
      if (++entries > MAX_ENTRIES) throw invalid(`image archive has more than ${MAX_ENTRIES} entries`);
      const h = entry.header;
      const name = clean(h.name);
      if (name === undefined) throw invalid(`image archive: entry "${h.name}" escapes the archive root`);
      if (h.type === "symlink" && h.linkname) {
        // Old `docker save` links identical layers to one copy.
        const target = clean(posix.join(posix.dirname(name), h.linkname));
        if (target !== undefined) links.set(name, target);
        entry.resume();
        continue;
      }
      if (h.type !== "file") {
        entry.resume();
        continue;
      }
      const blob = BLOB.exec(name);
      if (blob) {
        const stored = await content.putStream(entry, `${blob[1]}:${blob[2]}`, MAX_BLOB_BYTES, `image archive blob ${name}`);
        onBlob(stored.digest);
        blobs.set(name, stored.digest);
      } else if (LEGACY_LAYER.test(name)) {
        const stored = await content.putStream(entry, undefined, MAX_BLOB_BYTES, `image archive layer ${name}`);
        onBlob(stored.digest);
        blobs.set(name, stored.digest);
      } else if (DOCS.test(name)) {
        const held = docsBytes - (docs.get(name)?.length ?? 0); // a repeated name replaces the earlier copy
        const doc = await readDoc(entry, name, held);
        docs.set(name, doc);
        docsBytes = held + doc.length;
      } else {
        entry.resume();
      }
    }
  } catch (err) {
    ex.destroy();
    input.unpipe(ex);
    input.resume();
    throw err;
  }
  for (const [name, target] of links) {
    let t = target;
    for (let i = 0; i < 8 && links.has(t); i++) t = links.get(t)!;
    const d = blobs.get(t);
    if (d) blobs.set(name, d);
  }
  return { docs, blobs };
}
