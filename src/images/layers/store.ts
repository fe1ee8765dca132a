// The layer store: each layer applied once into <dir>/<short-id>/diff, keyed by ChainID and shared
// by every image that has it; short ids keep overlay mount options short. Records live in SQLite.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { BerthError, Code, describe } from "../../errors.js";
import type { Store } from "../../store/db.js";
import { logger } from "../../util/log.js";
import { applyLayer, type ApplyLimits, type BlobInput, type ImageBudget } from "../unpack/apply.js";
import { syncFilesystem } from "../../util/durable.js";
import { diskUsage, type Usage } from "../../util/disk-usage.js";

const log = logger("layers");
const ID = /^[0-9a-f]{12}$/;

export interface LayerRecord {
  chainId: string;
  /** Directory name under the layer store: 12 hex characters. */
  id: string;
  diffId: string;
  /** ChainID of the layer below, if any. */
  parent?: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** Tar entries and inodes made (for image budgets); absent in records made before they were counted. */
  entries?: number;
  inodes?: number;
  created: number;
  /** Measured after the apply (du-style); absent until then. */
  usage?: Usage;
}

export interface CreateLayer {
  chainId: string;
  parent: string | undefined;
  diffId: string;
  /** Lower layer directories, topmost first (for implicit parents' attributes). */
  lowers: string[];
  /** The uncompressed tar, or the blob to decompress (opened only if the layer must really be applied). */
  tar: () => Readable | BlobInput;
  /** Names the layer in errors: `layer 2 (sha256:…) of docker.io/library/x`. */
  what: string;
  /** The unpack limits (config images.*); defaults when absent. */
  limits?: ApplyLimits;
  /** The image's budget with what the layers below already use. */
  image?: ImageBudget;
}

/** Says whether something outside the image store (a container) uses a layer. */
export type LayerUser = (chainId: string) => boolean;

export class LayerStore {
  private readonly byChain = new Map<string, LayerRecord>();
  private readonly creating = new Map<string, Promise<LayerRecord>>();
  private readonly leases = new Map<string, number>();
  private readonly users: LayerUser[] = [];
  private measuring: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly store: Store,
    /** Flush each layer's files to disk before its record commits (config images.sync). */
    private readonly sync = false,
  ) {}

  /** Loads the records; removes directories without a record (a crash mid-apply) and records without a directory. */
  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const rows = this.store.db.prepare("SELECT chain_id, id, data FROM layers").all() as { chain_id: string; id: string; data: string }[];
    const onDisk = new Set(await fs.readdir(this.dir));
    for (const row of rows) {
      if (!onDisk.has(row.id)) {
        log.warn({ chainId: row.chain_id, id: row.id }, "layer directory missing; forgetting the layer");
        this.store.db.prepare("DELETE FROM layers WHERE chain_id = ?").run(row.chain_id);
        continue;
      }
      this.byChain.set(row.chain_id, JSON.parse(row.data) as LayerRecord);
    }
    const known = new Set([...this.byChain.values()].map((r) => r.id));
    for (const name of onDisk) {
      if (known.has(name)) continue;
      log.info({ dir: name }, "removing an unfinished layer directory");
      await fs.rm(join(this.dir, name), { recursive: true, force: true });
    }
    for (const r of this.byChain.values()) if (!r.usage) this.measure(r);
  }

  get(chainId: string): LayerRecord | undefined {
    return this.byChain.get(chainId);
  }

  all(): LayerRecord[] {
    return [...this.byChain.values()];
  }

  /** The directory holding the layer's files (an overlay lowerdir). */
  diffDir(chainId: string): string {
    const r = this.byChain.get(chainId);
    if (!r) throw new BerthError(Code.NOT_FOUND, `layer ${chainId} not found`);
    return join(this.dir, r.id, "diff");
  }

  /** Overlay lowerdirs of an image (its ChainIDs bottom first), topmost first. */
  lowerDirs(chainIds: readonly string[]): string[] {
    return chainIds.map((c) => this.diffDir(c)).reverse();
  }

  /**
   * Applies a layer unless it exists (or is being applied: then waits for that one). If that other
   * apply fails, this one tries with its own blob: another pull's bad blob (a hostile image
   * claiming this ChainID) must not fail this pull.
   */
  create(req: CreateLayer): Promise<LayerRecord> {
    const have = this.byChain.get(req.chainId);
    if (have) return Promise.resolve(have);
    const other = this.creating.get(req.chainId);
    if (other) return other.catch(() => this.create(req));
    const p = this.apply(req).finally(() => this.creating.delete(req.chainId));
    this.creating.set(req.chainId, p);
    return p;
  }

  private async apply(req: CreateLayer): Promise<LayerRecord> {
    let id = randomBytes(6).toString("hex");
    while ([...this.byChain.values()].some((r) => r.id === id)) id = randomBytes(6).toString("hex");
    const root = join(this.dir, id);
    const started = performance.now();
    try {
      await fs.mkdir(root, { mode: 0o700 });
      const out = await applyLayer(req.tar(), {
        root: join(root, "diff"), lowers: req.lowers, what: req.what,
        ...(req.limits ? { limits: req.limits } : {}), ...(req.image ? { image: req.image } : {}),
      });
      if (out.diffId !== req.diffId) {
        throw new BerthError(Code.DATA_LOSS, `${req.what}: its uncompressed content has DiffID ${out.diffId} but the image config says ${req.diffId}; refusing the image`);
      }
      const rec: LayerRecord = {
        chainId: req.chainId, id, diffId: req.diffId, size: out.size, entries: out.entries, inodes: out.inodes, created: Date.now(),
      };
      if (req.parent) rec.parent = req.parent;
      if (this.sync) await syncFilesystem(root);
      this.store.db.prepare("INSERT INTO layers (chain_id, id, data) VALUES (?, ?, ?)").run(rec.chainId, id, JSON.stringify(rec));
      this.byChain.set(rec.chainId, rec);
      log.debug({ chainId: rec.chainId, id, size: rec.size, ms: Math.round(performance.now() - started) }, "layer stored");
      this.measure(rec);
      return rec;
    } catch (err) {
      await fs.rm(root, { recursive: true, force: true }).catch((e: unknown) => log.warn({ root, err: describe(e) }, "cannot remove a failed layer directory"));
      throw err;
    }
  }

  /** Measures a layer's disk usage in the background, one layer at a time. */
  private measure(rec: LayerRecord): void {
    this.measuring = this.measuring.then(async () => {
      if (this.byChain.get(rec.chainId) !== rec) return;
      const usage = await diskUsage(join(this.dir, rec.id));
      if (this.byChain.get(rec.chainId) !== rec) return;
      rec.usage = usage;
      this.store.db.prepare("UPDATE layers SET data = ? WHERE chain_id = ?").run(JSON.stringify(rec), rec.chainId);
    }).catch((err: unknown) => log.warn({ chainId: rec.chainId, err: describe(err) }, "measuring a layer failed"));
  }

  /** Total usage of every layer (waits for pending measurements). */
  async usage(): Promise<Usage> {
    await this.measuring;
    let bytes = 0;
    let inodes = 1;
    for (const r of this.byChain.values()) {
      bytes += r.usage?.bytes ?? r.size;
      inodes += r.usage?.inodes ?? 1;
    }
    return { bytes, inodes };
  }

  /** Keeps layers from garbage collection while a pull or a container uses them. */
  acquire(chainIds: Iterable<string>): void {
    for (const c of chainIds) this.leases.set(c, (this.leases.get(c) ?? 0) + 1);
  }

  release(chainIds: Iterable<string>): void {
    for (const c of chainIds) {
      const n = (this.leases.get(c) ?? 0) - 1;
      if (n > 0) this.leases.set(c, n);
      else this.leases.delete(c);
    }
  }

  /** Registers a check the containers service answers (a layer under a container's rootfs). */
  addUser(user: LayerUser): void {
    this.users.push(user);
  }

  inUse(chainId: string): boolean {
    return (this.leases.get(chainId) ?? 0) > 0 || this.creating.has(chainId) || this.users.some((u) => u(chainId));
  }

  /** Deletes a layer nothing uses; returns false (and keeps it) when something does. */
  async remove(chainId: string): Promise<boolean> {
    const rec = this.byChain.get(chainId);
    if (!rec) return true;
    if (this.inUse(chainId)) return false;
    if (!ID.test(rec.id)) throw new BerthError(Code.INTERNAL, `layer ${chainId} has a malformed directory id "${rec.id}"`);
    this.byChain.delete(chainId);
    this.store.db.prepare("DELETE FROM layers WHERE chain_id = ?").run(chainId);
    await fs.rm(join(this.dir, rec.id), { recursive: true, force: true });
    log.debug({ chainId, id: rec.id }, "layer removed");
    return true;
  }
}
