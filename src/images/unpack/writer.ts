// Applies one tar entry at a time to a layer directory: resolves it inside the root, replaces
// what was there, creates it with its attributes, and turns whiteouts into overlay whiteouts.
import fs from "node:fs";
import { invalid } from "../../errors.js";
import { formatBytes, overBudget, type Meter } from "./budget.js";
import { createFile, setAttrs, type Attrs, type Warn } from "./fsops.js";
import { LIMIT_KEYS, type ApplyLimits } from "./limits.js";
import { resolveMerged } from "./merged.js";
import { cleanName, entryError, joinPath, splitPath, whiteoutOf } from "./names.js";
import type { NodeToMake } from "./nodes.js";
import { makeNodes, mknod, restoreXattrs } from "./tools.js";
import { dirNode, type DirNode, type LayerTree, type Node } from "./tree.js";

export type EntryType = "file" | "dir" | "symlink" | "link" | "char" | "block" | "fifo";

export interface Entry {
  name: string; // as in the tar
  type: EntryType;
  size: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  attrs: Attrs;
}

async function drain(data: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of data);
}

// A fresh node per non-directory, so identity tells "still the thing made then" at the end.
const other = (): Node => ({ kind: "other" });

const OPAQUE: readonly [string, Buffer] = ["trusted.overlay.opaque", Buffer.from("y")];
// XATTR_SIZE_MAX: the kernel refuses larger values.
const MAX_XATTR_VALUE = 65536;
// Linux dev_t: 12-bit major, 20-bit minor.
const MAX_MAJOR = 0xfff;
const MAX_MINOR = 0xfffff;

export class LayerWriter {
  // Directory times to set at the end, with the node they were meant for: if that directory was
  // replaced meanwhile, the times are dropped.
  readonly #dirTimes = new Map<string, { node: DirNode; atime: number; mtime: number }>();
  // xattrs to set at the end in one setfattr, with the node they were meant for (as above).
  readonly #xattrs = new Map<string, { node: Node; xattrs: (readonly [string, Buffer])[] }>();
  #xattrCount = 0;
  #xattrBytes = 0;
  #devices = 0;
  // Device nodes and FIFOs not made yet: one tar makes them all at the end, or sooner when a
  // hard link needs one. In the tree already; `#unmade` tells #prepare they are not on disk.
  #nodes: { node: Node; make: NodeToMake; attrs: Attrs }[] = [];
  readonly #unmade = new Set<Node>();
  // The layer's first whiteout: later ones are hard links to it (no process per whiteout).
  #whiteoutTemplate: { rel: string; node: Node } | null = null;

  constructor(
    readonly tree: LayerTree,
    readonly lowers: readonly LayerTree[],
    readonly limits: ApplyLimits,
    readonly umask: number | null,
    readonly meter: Meter,
    readonly warn: Warn,
  ) {}

  get maxPathLength(): number {
    return this.limits.maxPathLength;
  }

  /** Applies one entry; `data` is its contents (consumed here, whatever the entry is). */
  async entry(e: Entry, data: AsyncIterable<Buffer>): Promise<void> {
    const rel = cleanName(e.name, this.maxPathLength);
    // containerd ignores entries that resolve to the layer root ("./"); so does Berth.
    if (rel === "") return drain(data);
    const { parent, base } = splitPath(rel);
    const wo = whiteoutOf(e.name, base);
    const dir = resolveMerged(this.tree, this.lowers, parent, e.name);
    const dirSgid = this.#ensureDir(dir, e.name);
    if (wo.kind === "opaque") {
      await drain(data);
      const node = this.tree.lookup(dir);
      if (node) this.#queueXattrs(dir, node, [OPAQUE]);
      return;
    }
    if (wo.kind === "file") {
      await drain(data);
      return this.#whiteout(joinPath(dir, wo.name));
    }
    const path = joinPath(dir, base);
    const abs = this.tree.abs(path);
    switch (e.type) {
      case "dir": {
        const before = this.tree.lookup(path);
        if (this.#prepare(path, true) === "new") {
          this.meter.add("inodes", 1);
          fs.mkdirSync(abs, 0o700);
        }
        const node = dirNode(e.attrs.mode);
        this.tree.set(path, node);
        // A directory kept from earlier in this layer keeps its queued xattrs (an opaque marker).
        const queued = this.#xattrs.get(path);
        if (queued && queued.node === before) queued.node = node;
        this.#dirTimes.set(path, { node, atime: e.attrs.atime, mtime: e.attrs.mtime });
        this.#queueXattrs(path, node, e.attrs.xattrs);
        return setAttrs(abs, "dir", e.attrs, false);
      }
      case "file": {
        this.#prepare(path, false);
        this.meter.add("inodes", 1);
        const node = other();
        this.tree.set(path, node);
        this.#queueXattrs(path, node, e.attrs.xattrs);
        // Berth runs as root: a new file is 0:0, or 0:<dir's group> under a set-group-ID dir.
        const owned = e.attrs.uid === 0 && e.attrs.gid === 0 && !dirSgid;
        return createFile(abs, data, e.attrs, owned, this.umask);
      }
      case "symlink": {
        const target = e.linkname;
        if (target === "") throw entryError(e.name, "symlink has an empty target");
        if (target.includes("\0")) throw entryError(e.name, "symlink target contains a NUL byte");
        if (Buffer.byteLength(target) > this.maxPathLength) {
          throw entryError(e.name, `symlink target is longer than ${this.maxPathLength} bytes`);
        }
        this.#prepare(path, false);
        this.meter.add("inodes", 1);
        // The target is data stored as is; Berth itself only ever follows it through resolve().
        fs.symlinkSync(target, abs);
        const node: Node = { kind: "symlink", target };
        this.tree.set(path, node);
        this.#queueXattrs(path, node, e.attrs.xattrs);
        return setAttrs(abs, "symlink", e.attrs, true);
      }
      case "link":
        return this.#hardlink(e, path);
      case "char":
      case "block":
      case "fifo": {
        if (++this.#devices > this.limits.maxDeviceNodes) {
          throw invalid(`${this.meter.job.what} has more than ${this.limits.maxDeviceNodes} device nodes and FIFOs; Berth refuses such a layer`);
        }
        if (e.type !== "fifo" && (e.devmajor > MAX_MAJOR || e.devminor > MAX_MINOR)) {
          throw entryError(e.name, `device number ${e.devmajor}:${e.devminor} is out of range`);
        }
        this.#prepare(path, false);
        this.meter.add("inodes", 1);
        const node = other();
        this.tree.set(path, node);
        this.#queueXattrs(path, node, e.attrs.xattrs);
        this.#nodes.push({ node, attrs: e.attrs, make: { rel: path, type: e.type, major: e.devmajor, minor: e.devminor } });
        this.#unmade.add(node);
        return;
      }
    }
  }

  /**
   * Sets the queued xattrs (one setfattr for the layer) where the node they were meant for is
   * still there, then directory times, last: creating children moved them.
   */
  finish(): void {
    this.#makeNodes();
    const batch: [string, (readonly [string, Buffer])[]][] = [];
    for (const [rel, q] of this.#xattrs) {
      if (this.tree.lookup(rel) === q.node) batch.push([this.tree.abs(rel), q.xattrs]);
    }
    // As containerd does: a filesystem or inode type that refuses an xattr is not fatal.
    for (const m of restoreXattrs(batch)) this.warn(`xattr not supported here; ignored: ${m}`);
    for (const [rel, t] of this.#dirTimes) {
      if (this.tree.lookup(rel) === t.node) fs.lutimesSync(this.tree.abs(rel), t.atime, t.mtime);
    }
  }

  // Makes the queued device nodes still in the tree (one tar), then sets their attributes.
  #makeNodes(): void {
    const todo = this.#nodes.filter((n) => this.tree.lookup(n.make.rel) === n.node);
    this.#nodes = [];
    this.#unmade.clear();
    makeNodes(this.tree.root, todo.map((n) => n.make));
    for (const n of todo) setAttrs(this.tree.abs(n.make.rel), "other", n.attrs, true);
  }

  #queueXattrs(rel: string, node: Node, xattrs: Attrs["xattrs"]): void {
    if (xattrs.length === 0) return;
    this.#xattrCount += xattrs.length;
    if (this.#xattrCount > this.limits.maxXattrsPerLayer) {
      throw overBudget(this.meter.job.what, `sets more than ${this.limits.maxXattrsPerLayer} extended attributes`, LIMIT_KEYS.maxXattrsPerLayer);
    }
    for (const [name, value] of xattrs) {
      if (value.length > MAX_XATTR_VALUE) throw entryError(rel, `xattr ${name} is ${value.length} bytes, over the kernel's limit of ${MAX_XATTR_VALUE}`);
      this.#xattrBytes += Buffer.byteLength(name) + value.length;
    }
    if (this.#xattrBytes > this.limits.maxXattrBytesPerLayer) {
      throw invalid(`${this.meter.job.what} sets more than ${formatBytes(this.limits.maxXattrBytesPerLayer)} of extended attributes; Berth refuses such a layer`);
    }
    const q = this.#xattrs.get(rel);
    if (q && q.node === node) q.xattrs.push(...xattrs);
    else this.#xattrs.set(rel, { node, xattrs: [...xattrs] });
  }

  // A hardlink's name is relative to the layer root; its target must already be in this layer.
  // Its parent is resolved inside the root; its last component is not followed (containerd
  // hardlinkRootPath), and link(2) does not follow it either.
  #hardlink(e: Entry, path: string): void {
    const linkRel = cleanName(e.linkname, this.maxPathLength, "hardlink target");
    if (linkRel === "") throw entryError(e.name, "hardlink target is the layer root");
    const { parent, base } = splitPath(linkRel);
    const target = joinPath(resolveMerged(this.tree, this.lowers, parent, e.name), base);
    const node = this.tree.lookup(target);
    if (node === null) throw entryError(e.name, `hardlink target "${e.linkname}" is not in this layer`);
    if (node.kind === "dir") throw entryError(e.name, `hardlink target "${e.linkname}" is a directory`);
    if (target === path) throw entryError(e.name, "hardlink points to itself");
    if (this.#unmade.has(node)) this.#makeNodes();
    this.#prepare(path, false);
    const abs = this.tree.abs(path);
    fs.linkSync(this.tree.abs(target), abs);
    this.tree.set(path, node);
    this.#queueXattrs(path, node, e.attrs.xattrs);
    setAttrs(abs, node.kind === "symlink" ? "symlink" : "other", e.attrs, true);
  }

  // An overlay whiteout (char device 0/0) hides `path` of the lower layers; what this layer
  // itself put there stays (layer.md: same-layer entries are not hidden by its whiteouts).
  // The first is made by mknod; the others are hard links to it (overlayfs shares one whiteout
  // inode the same way), so a layer of many whiteouts starts one process, not one each.
  #whiteout(path: string): void {
    if (this.tree.lookup(path) !== null) return;
    this.meter.add("inodes", 1);
    const abs = this.tree.abs(path);
    const node = other();
    const t = this.#whiteoutTemplate;
    if (t && this.tree.lookup(t.rel) === t.node) {
      try {
        fs.linkSync(this.tree.abs(t.rel), abs);
        this.tree.set(path, t.node);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EMLINK") throw err;
      }
    }
    mknod(abs, "c", 0, 0);
    this.tree.set(path, node);
    this.#whiteoutTemplate = { rel: path, node };
  }

  // Makes room for a new entry at path: keeps an existing directory for a directory entry,
  // otherwise removes whatever is there without following it.
  #prepare(path: string, isDir: boolean): "new" | "keep" {
    const node: Node | null = this.tree.lookup(path);
    if (node === null) return "new";
    if (isDir && node.kind === "dir") return "keep";
    const abs = this.tree.abs(path);
    if (node.kind === "dir") fs.rmSync(abs, { recursive: true, force: true });
    else if (!this.#unmade.delete(node)) fs.unlinkSync(abs);
    this.tree.removed(path);
    return "new";
  }

  // Makes sure the resolved directory `rel` exists, creating missing parents like containerd's
  // mkparent: with the mode/owner/times of the same directory in the topmost lower that has it.
  // Returns whether the directory is set-group-ID.
  #ensureDir(rel: string, entryName: string): boolean {
    const known = this.tree.lookup(rel);
    if (known?.kind === "dir") return known.sgid;
    let cur = "";
    let sgid = false;
    for (const part of rel.split("/")) {
      cur = joinPath(cur, part);
      const node = this.tree.lookup(cur);
      if (node?.kind === "dir") {
        sgid = node.sgid;
        continue;
      }
      if (node !== null) throw entryError(entryName, `parent "${cur}" is not a directory`);
      sgid = this.#mkparent(cur);
    }
    return sgid;
  }

  #mkparent(rel: string): boolean {
    const abs = this.tree.abs(rel);
    this.meter.add("inodes", 1);
    fs.mkdirSync(abs, 0o700);
    const lower = this.#lowerDir(rel);
    const a: Attrs = lower ?? { uid: 0, gid: 0, mode: 0o755, atime: 0, mtime: 0, xattrs: [] };
    const node = dirNode(a.mode);
    this.tree.set(rel, node);
    setAttrs(abs, "dir", a, false);
    if (lower) this.#dirTimes.set(rel, { node, atime: lower.atime, mtime: lower.mtime });
    return (a.mode & 0o2000) !== 0;
  }

  #lowerDir(rel: string): Attrs | null {
    for (const lower of this.lowers) {
      let node: Node | null;
      let at: string;
      try {
        at = lower.resolve(rel, true, rel);
        node = lower.lookup(at);
      } catch {
        return null; // a symlink loop in a lower: no attributes to copy
      }
      if (node === null) continue;
      if (node.kind !== "dir") return null; // replaced in that lower: copy nothing
      const st = fs.lstatSync(lower.abs(at));
      return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000, xattrs: [] };
    }
    return null;
  }
}
