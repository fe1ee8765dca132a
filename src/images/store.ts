// The image store: one record per image (ID = config digest) in SQLite, served from an in-memory
// index; lookups by ID, unique ID prefix, tag, digest or repo@digest, short names normalised.
import { invalid } from "../errors.js";
import type { Store } from "../store/db.js";
import { formatDigested, formatTagged, parseReference } from "./registry/reference.js";

export interface LayerRef {
  /** Digest of the (compressed) blob. */
  digest: string;
  size: number;
  mediaType: string;
  diffId: string;
  chainId: string;
}

export interface ImageRecord {
  /** "sha256:<hex>" of the config: what CRI calls the image ID and image_ref. */
  id: string;
  /** "docker.io/library/busybox:latest" */
  repoTags: string[];
  /** "docker.io/library/busybox@sha256:<manifest or index digest>" */
  repoDigests: string[];
  /** Bytes of manifest, config and (compressed) layers, as containerd reports it. */
  size: number;
  manifestDigest: string;
  manifestMediaType: string;
  manifestSize: number;
  configMediaType: string;
  configSize: number;
  /** Digests of indexes the image was pulled through (kept so repo digests can be served). */
  indexDigests: string[];
  layers: LayerRef[];
  /** The config's User ("", "1000", "app", "1000:1000"). */
  user: string;
  /** When it was stored (ms since the epoch). */
  created: number;
}

export type MatchKind = "id" | "tag" | "digest";

export interface Match {
  image: ImageRecord;
  by: MatchKind;
  /** The normalised tag or repo@digest that matched (for `by` tag/digest). */
  ref?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX_PREFIX = /^[0-9a-f]{1,64}$/;

/** The normalised "name:tag" or "name@digest" a user reference means, as stored in records. */
export function normalizeRef(input: string): { tag?: string; digest?: string; name: string } {
  const ref = parseReference(input);
  if (ref.digest) return { name: ref.name, digest: formatDigested(ref, ref.digest) };
  return { name: ref.name, tag: formatTagged(ref) };
}

export class ImageStore {
  private readonly byId = new Map<string, ImageRecord>();
  private readonly byTag = new Map<string, string>();
  private readonly byDigest = new Map<string, string>();
  /** Bumped on every change (GC notices commits that happen while it runs). */
  version = 0;

  constructor(private readonly store: Store) {
    this.reload();
  }

  /** (Re)builds the index from the database. */
  private reload(): void {
    this.version++;
    this.byId.clear();
    this.byTag.clear();
    this.byDigest.clear();
    const rows = this.store.db.prepare("SELECT data FROM images").all() as { data: string }[];
    for (const r of rows) this.index(JSON.parse(r.data) as ImageRecord);
  }

  list(): ImageRecord[] {
    return [...this.byId.values()];
  }

  get(id: string): ImageRecord | undefined {
    return this.byId.get(id);
  }

  /**
   * Finds an image as containerd's CRI plugin does: a digest-shaped ID first, then a reference
   * (tag or repo@digest, short names normalised), then a unique ID prefix. Undefined if none.
   */
  find(input: string): Match | undefined {
    const s = input.trim();
    if (s === "") throw invalid("image is empty: give an image ID, ID prefix, tag or digest");
    const bare = s.startsWith("sha256:") ? s.slice(7) : s;
    if (HEX64.test(bare)) {
      const image = this.byId.get(`sha256:${bare}`);
      if (image) return { image, by: "id" };
      for (const [ref, id] of this.byDigest) {
        if (ref.endsWith(`@sha256:${bare}`)) return { image: this.byId.get(id)!, by: "digest", ref };
      }
      return undefined;
    }
    if (s.startsWith("sha256:")) {
      if (!HEX_PREFIX.test(bare)) throw invalid(`image "${s}": "sha256:" must be followed by hex digits`);
      return this.byPrefix(bare, s);
    }
    let parsed: { tag?: string; digest?: string } | undefined;
    try {
      parsed = normalizeRef(s);
    } catch (err) {
      if (!HEX_PREFIX.test(s)) throw err;
    }
    if (parsed?.digest) {
      const id = this.byDigest.get(parsed.digest);
      if (id) return { image: this.byId.get(id)!, by: "digest", ref: parsed.digest };
    } else if (parsed?.tag) {
      const id = this.byTag.get(parsed.tag);
      if (id) return { image: this.byId.get(id)!, by: "tag", ref: parsed.tag };
    }
    return HEX_PREFIX.test(s) ? this.byPrefix(s, s) : undefined;
  }

  private byPrefix(hex: string, input: string): Match | undefined {
    const hits = [...this.byId.keys()].filter((id) => id.startsWith(`sha256:${hex}`));
    if (hits.length > 1) {
      throw invalid(`image ID prefix "${input}" is ambiguous: it matches ${hits.map((h) => h.slice(7, 19)).join(", ")}; give more characters`);
    }
    const id = hits[0];
    return id === undefined ? undefined : { image: this.byId.get(id)!, by: "id" };
  }

  /** Which image holds a tag ("name:tag", normalised). */
  idOfTag(tag: string): string | undefined {
    return this.byTag.get(tag);
  }

  /**
   * Stores an image (new or updated) and moves its tags and digests away from any image that
   * held them. Images left with no tag and no digest are deleted and returned (for GC).
   */
  commit(rec: ImageRecord): ImageRecord[] {
    try {
      return this.commitTx(rec);
    } catch (err) {
      this.reload(); // the transaction rolled back (a full disk: SQLITE_FULL); so does the index
      throw err;
    }
  }

  private commitTx(rec: ImageRecord): ImageRecord[] {
    const orphans: ImageRecord[] = [];
    this.store.tx(() => {
      const touched = new Set<ImageRecord>();
      for (const t of rec.repoTags) {
        const other = this.byTag.get(t);
        if (other !== undefined && other !== rec.id) {
          const o = this.byId.get(other)!;
          o.repoTags = o.repoTags.filter((x) => x !== t);
          touched.add(o);
        }
      }
      for (const d of rec.repoDigests) {
        const other = this.byDigest.get(d);
        if (other !== undefined && other !== rec.id) {
          const o = this.byId.get(other)!;
          o.repoDigests = o.repoDigests.filter((x) => x !== d);
          touched.add(o);
        }
      }
      for (const o of touched) {
        if (o.repoTags.length === 0 && o.repoDigests.length === 0) {
          orphans.push(o);
          this.delete(o.id);
        } else this.save(o);
      }
      this.save(rec);
    });
    return orphans;
  }

  /** Persists one record and reindexes it. */
  save(rec: ImageRecord): void {
    this.store.db.prepare("INSERT INTO images (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data").run(rec.id, JSON.stringify(rec));
    this.unindex(rec.id);
    this.index(rec);
  }

  delete(id: string): void {
    this.store.db.prepare("DELETE FROM images WHERE id = ?").run(id);
    this.unindex(id);
  }

  private index(rec: ImageRecord): void {
    this.version++;
    this.byId.set(rec.id, rec);
    for (const t of rec.repoTags) this.byTag.set(t, rec.id);
    for (const d of rec.repoDigests) this.byDigest.set(d, rec.id);
  }

  private unindex(id: string): void {
    this.version++;
    this.byId.delete(id);
    for (const [k, v] of this.byTag) if (v === id) this.byTag.delete(k);
    for (const [k, v] of this.byDigest) if (v === id) this.byDigest.delete(k);
  }
}
