// The content store: blobs by digest under <dir>/blobs/<alg>/<hex>, verified before they get
// their name; concurrent requests for one blob share one download (in-flight dedup).
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, rmSync } from "node:fs";
import fs from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { BerthError, Code, describe, invalid, notFound } from "../../errors.js";
import { logger } from "../../util/log.js";
import { FAILOVER_LAG_MS, Ingest, type BlobOpener } from "./ingest.js";
import { syncDir, writeDurably } from "../../util/durable.js";
import { blobPath, contentPaths, partialPath, splitDigest, type ContentPaths } from "./paths.js";

const log = logger("content");
// A .partial older than this is someone's abandoned download, not a resume candidate.
const PARTIAL_MAX_AGE_MS = 7 * 24 * 3600_000;

export interface BlobInfo {
  digest: string;
  size: number;
}

export class ContentStore {
  readonly paths: ContentPaths;
  private readonly ingests = new Map<string, Ingest>();
  private readonly small = new Map<string, Promise<Buffer>>();
  /** Names of temp files in the ingest dir that a put is writing now (GC leaves them). */
  private readonly temps = new Set<string>();
  /** Fetches of a small blob by callers that gave up on the shared one: digest → count. */
  private readonly ownFetches = new Map<string, number>();

  constructor(
    readonly dir: string,
    /** Overrides FAILOVER_LAG_MS (tests). */
    private readonly lagMs?: number,
    /** fsync each blob before its rename (config images.sync). */
    readonly sync = false,
  ) {
    this.paths = contentPaths(dir);
  }

  /** Creates the directories and removes temp files a crash left behind. */
  async init(): Promise<void> {
    await fs.mkdir(join(this.paths.blobs, "sha256"), { recursive: true, mode: 0o700 });
    await fs.mkdir(this.paths.ingest, { recursive: true, mode: 0o700 });
    const now = Date.now();
    for (const name of await fs.readdir(this.paths.ingest)) {
      const p = join(this.paths.ingest, name);
      const stale = !name.endsWith(".partial") || now - (await fs.stat(p)).mtimeMs > PARTIAL_MAX_AGE_MS;
      if (stale) await fs.rm(p, { force: true, recursive: true });
    }
  }

  path(digest: string): string {
    return blobPath(this.paths, digest);
  }

  /** The blob's size if the store has it. */
  async size(digest: string): Promise<number | undefined> {
    try {
      return (await fs.stat(this.path(digest))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /** A stored blob, whole (only for small documents: manifests, configs). Not re-hashed: it was verified on write. */
  async read(digest: string, cap: number): Promise<Buffer> {
    const size = await this.size(digest);
    if (size === undefined) throw notFound("blob", digest);
    if (size > cap) throw invalid(`blob ${digest} is ${size} bytes; at most ${cap} are read`);
    return fs.readFile(this.path(digest));
  }

  /** A stored blob as a stream. */
  open(digest: string): Readable {
    return createReadStream(this.path(digest), { highWaterMark: 256 * 1024 });
  }

  /** Stores bytes under their digest after checking it; a no-op when the blob is already there. */
  async put(digest: string, bytes: Buffer): Promise<void> {
    const { alg } = splitDigest(digest);
    const got = `${alg}:${createHash(alg).update(bytes).digest("hex")}`;
    if (got !== digest) throw new BerthError(Code.DATA_LOSS, `blob ${digest}: content has digest ${got}; refusing it`);
    const final = this.path(digest);
    if ((await this.size(digest)) === bytes.length) return;
    await fs.mkdir(dirname(final), { recursive: true, mode: 0o700 });
    const name = `${randomBytes(8).toString("hex")}.tmp`;
    const tmp = join(this.paths.ingest, name);
    this.temps.add(name);
    try {
      await writeDurably(tmp, bytes, this.sync);
      await fs.rename(tmp, final);
      if (this.sync) await syncDir(dirname(final));
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    } finally {
      this.temps.delete(name);
    }
  }

  /**
   * Stores a stream (an archive entry) under the digest of its bytes, checked against `expected`
   * when given. Written to a temp name, renamed once verified; at most `cap` bytes.
   */
  async putStream(stream: AsyncIterable<unknown> & { destroy(err?: Error): unknown }, expected: string | undefined, cap: number, what: string): Promise<BlobInfo> {
    const alg = expected ? splitDigest(expected).alg : "sha256";
    const hash = createHash(alg);
    const name = `${randomBytes(8).toString("hex")}.tmp`;
    const tmp = join(this.paths.ingest, name);
    let size = 0;
    this.temps.add(name);
    try {
      const fh = await fs.open(tmp, "wx", 0o600);
      try {
        for await (const c of stream) {
          const chunk = c as Buffer;
          size += chunk.length;
          if (size > cap) throw invalid(`${what} is larger than ${cap} bytes; refusing it`);
          hash.update(chunk);
          await fh.write(chunk);
        }
        if (this.sync) await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `${alg}:${hash.digest("hex")}`;
      if (expected !== undefined && digest !== expected) {
        throw new BerthError(Code.DATA_LOSS, `${what}: content has digest ${digest}, not ${expected}; refusing it`);
      }
      const final = this.path(digest);
      await fs.mkdir(dirname(final), { recursive: true, mode: 0o700 });
      await fs.rename(tmp, final);
      if (this.sync) await syncDir(dirname(final));
      return { digest, size };
    } catch (err) {
      stream.destroy();
      await fs.rm(tmp, { force: true });
      throw err;
    } finally {
      this.temps.delete(name);
    }
  }

  /**
   * A small blob from the store, or fetched once by `fetch` (concurrent callers share the
   * fetch), verified and stored. A caller that joined another's fetch uses its own `fetch` when
   * that one fails or has not answered within the failover lag (its registry may be hostile).
   */
  async getOrFetch(digest: string, cap: number, fetch: () => Promise<Buffer>): Promise<Buffer> {
    if ((await this.size(digest)) !== undefined) return this.read(digest, cap);
    const shared = this.small.get(digest);
    if (!shared) {
      const p = this.fetchSmall(digest, cap, fetch).finally(() => this.small.delete(digest));
      this.small.set(digest, p);
      return p;
    }
    let timer: NodeJS.Timeout | undefined;
    const lagged = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.lagMs ?? FAILOVER_LAG_MS)));
    const got = await Promise.race([shared.catch(() => undefined), lagged]).finally(() => clearTimeout(timer));
    if (got) return got;
    this.ownFetches.set(digest, (this.ownFetches.get(digest) ?? 0) + 1);
    try {
      return await this.fetchSmall(digest, cap, fetch);
    } finally {
      const n = (this.ownFetches.get(digest) ?? 1) - 1;
      if (n > 0) this.ownFetches.set(digest, n);
      else this.ownFetches.delete(digest);
    }
  }

  private async fetchSmall(digest: string, cap: number, fetch: () => Promise<Buffer>): Promise<Buffer> {
    const bytes = await fetch();
    if (bytes.length > cap) throw invalid(`blob ${digest} is ${bytes.length} bytes; at most ${cap} are accepted`);
    await this.put(digest, bytes);
    return bytes;
  }

  /**
   * The download of a blob into the store: an existing one for the same digest if running,
   * a finished one if the blob is present, else a new one (resuming a .partial with Range).
   */
  async ingest(digest: string, size: number, what: string, open: BlobOpener, from?: string): Promise<Ingest> {
    const running = this.ingests.get(digest);
    if (running) {
      // Joined with our own source, so a hostile first source cannot fail or hold this caller.
      if (running.addSource(open, from ?? what)) {
        log.debug({ what, from }, "joined a running download with this pull's own source");
        return running;
      }
      await running.done.catch(() => {});
      return this.ingest(digest, size, what, open, from);
    }
    const have = await this.size(digest);
    if (have !== undefined) {
      if (have === size) return Ingest.present(digest, size, this.path(digest), what);
      // A stored blob was verified against its digest, so its size is the truth: the descriptor
      // lies. Deleting it would let a hostile manifest destroy another image's config or layer.
      throw new BerthError(Code.DATA_LOSS, `${what}: the manifest says ${size} bytes, but the blob with this digest is ${have} bytes; refusing it`);
    }
    if (this.ingests.has(digest)) return this.ingest(digest, size, what, open, from); // started during the awaits
    const ing = Ingest.start({
      digest, size, what, partial: partialPath(this.paths, digest), final: this.path(digest), open, sync: this.sync,
      ...(from !== undefined ? { from } : {}), ...(this.lagMs !== undefined ? { lagMs: this.lagMs } : {}),
    });
    this.ingests.set(digest, ing);
    ing.done.then(
      () => this.ingests.delete(digest),
      () => this.ingests.delete(digest),
    );
    return ing;
  }

  /** Whether a download of this digest is running (GC must leave its files alone). */
  downloading(digest: string): boolean {
    return this.ingests.has(digest) || this.small.has(digest) || this.ownFetches.has(digest);
  }

  /** Whether a put is writing this temp file of the ingest dir (GC must leave it). */
  writing(name: string): boolean {
    return this.temps.has(name);
  }

  /** Synchronous, so a caller's "unreferenced?" check and the unlink cannot interleave with a pull. */
  deleteSync(digest: string): void {
    rmSync(this.path(digest), { force: true });
  }

  /** Every stored blob. */
  async list(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    for (const alg of await fs.readdir(this.paths.blobs)) {
      const dir = join(this.paths.blobs, alg);
      for (const hex of await fs.readdir(dir)) {
        try {
          out.push({ digest: `${alg}:${hex}`, size: (await fs.stat(join(dir, hex))).size });
        } catch (err) {
          log.debug({ err: describe(err), hex }, "blob vanished while listing");
        }
      }
    }
    return out;
  }

  /** Bytes (allocated blocks) and inodes used by stored blobs and partial downloads. */
  async usage(): Promise<{ bytes: number; inodes: number }> {
    let bytes = 0;
    let inodes = 0;
    const count = async (dir: string): Promise<void> => {
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch {
        return;
      }
      inodes++;
      for (const n of names) {
        try {
          const st = await fs.lstat(join(dir, n));
          if (st.isDirectory()) await count(join(dir, n));
          else {
            bytes += st.blocks * 512;
            inodes++;
          }
        } catch {
          /* removed meanwhile */
        }
      }
    };
    await count(this.dir);
    return { bytes, inodes };
  }
}
