// Applies one tar entry at a time to a layer directory: resolves it inside the root, replaces
// what was there, creates it with its attributes, and turns whiteouts into overlay whiteouts.
import fs from "node:fs";
import { createFile, setAttrs, type Attrs, type Warn } from "./fsops.js";
import { cleanName, entryError, joinPath, splitPath, whiteoutOf } from "./names.js";
import { mknod, setXattr } from "./tools.js";
import { dirNode, otherNode, type DirNode, type LayerTree, type Node } from "./tree.js";

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

export class LayerWriter {
  // Directory times to set at the end, with the node they were meant for: if that directory was
  // replaced meanwhile, the times are dropped.
  readonly #dirTimes = new Map<string, { node: DirNode; atime: number; mtime: number }>();

  constructor(
    readonly tree: LayerTree,
    readonly lowers: readonly LayerTree[],
    readonly maxPathLength: number,
    readonly umask: number | null,
    readonly warn: Warn,
  ) {}

  /** Applies one entry; `data` is its contents (consumed here, whatever the entry is). */
  async entry(e: Entry, data: AsyncIterable<Buffer>): Promise<void> {
    const rel = cleanName(e.name, this.maxPathLength);
    // containerd ignores entries that resolve to the layer root ("./"); so does Berth.
    if (rel === "") return drain(data);
    const { parent, base } = splitPath(rel);
    const wo = whiteoutOf(e.name, base);
    const dir = this.tree.resolve(parent, true, e.name);
    const dirSgid = this.#ensureDir(dir, e.name);
    if (wo.kind === "opaque") {
      await drain(data);
      return setXattr(this.tree.abs(dir), "trusted.overlay.opaque", Buffer.from("y"));
    }
    if (wo.kind === "file") {
      await drain(data);
      return this.#whiteout(joinPath(dir, wo.name), e.attrs);
    }
    const path = joinPath(dir, base);
    const abs = this.tree.abs(path);
    switch (e.type) {
      case "dir": {
        if (this.#prepare(path, true) === "new") fs.mkdirSync(abs, 0o700);
        const node = dirNode(e.attrs.mode);
        this.tree.set(path, node);
        this.#dirTimes.set(path, { node, atime: e.attrs.atime, mtime: e.attrs.mtime });
        return setAttrs(abs, "dir", e.attrs, false, this.warn);
      }
      case "file": {
        this.#prepare(path, false);
        this.tree.set(path, otherNode);
        // Berth runs as root: a new file is 0:0, or 0:<dir's group> under a set-group-ID dir.
        const owned = e.attrs.uid === 0 && e.attrs.gid === 0 && !dirSgid;
        return createFile(abs, data, e.attrs, owned, this.umask, this.warn);
      }
      case "symlink": {
        const target = e.linkname;
        if (target === "") throw entryError(e.name, "symlink has an empty target");
        if (target.includes("\0")) throw entryError(e.name, "symlink target contains a NUL byte");
        if (Buffer.byteLength(target) > this.maxPathLength) {
          throw entryError(e.name, `symlink target is longer than ${this.maxPathLength} bytes`);
        }
        this.#prepare(path, false);
        // The target is data stored as is; Berth itself only ever follows it through resolve().
        fs.symlinkSync(target, abs);
        this.tree.set(path, { kind: "symlink", target });
        return setAttrs(abs, "symlink", e.attrs, true, this.warn);
      }
      case "link":
        return this.#hardlink(e, path);
      case "char":
      case "block":
      case "fifo":
        this.#prepare(path, false);
        mknod(abs, e.type === "char" ? "c" : e.type === "block" ? "b" : "p", e.devmajor, e.devminor);
        this.tree.set(path, otherNode);
        return setAttrs(abs, "other", e.attrs, true, this.warn);
    }
  }

  /** Sets directory times, last: creating children moved them. */
  finish(): void {
    for (const [rel, t] of this.#dirTimes) {
      if (this.tree.lookup(rel) === t.node) fs.lutimesSync(this.tree.abs(rel), t.atime, t.mtime);
    }
  }

  // A hardlink's name is relative to the layer root; its target must already be in this layer.
  // Its parent is resolved inside the root; its last component is not followed (containerd
  // hardlinkRootPath), and link(2) does not follow it either.
  #hardlink(e: Entry, path: string): void {
    const linkRel = cleanName(e.linkname, this.maxPathLength, "hardlink target");
    if (linkRel === "") throw entryError(e.name, "hardlink target is the layer root");
    const { parent, base } = splitPath(linkRel);
    const target = joinPath(this.tree.resolve(parent, true, e.name), base);
    const node = this.tree.lookup(target);
    if (node === null) throw entryError(e.name, `hardlink target "${e.linkname}" is not in this layer`);
    if (node.kind === "dir") throw entryError(e.name, `hardlink target "${e.linkname}" is a directory`);
    if (target === path) throw entryError(e.name, "hardlink points to itself");
    this.#prepare(path, false);
    const abs = this.tree.abs(path);
    fs.linkSync(this.tree.abs(target), abs);
    this.tree.set(path, node);
    setAttrs(abs, node.kind === "symlink" ? "symlink" : "other", e.attrs, true, this.warn);
  }

  // An overlay whiteout (char device 0/0) hides `path` of the lower layers; what this layer
  // itself put there stays (layer.md: same-layer entries are not hidden by its whiteouts).
  #whiteout(path: string, a: Attrs): void {
    if (this.tree.lookup(path) !== null) return;
    const abs = this.tree.abs(path);
    mknod(abs, "c", 0, 0);
    this.tree.set(path, otherNode);
    fs.lchownSync(abs, a.uid, a.gid);
  }

  // Makes room for a new entry at path: keeps an existing directory for a directory entry,
  // otherwise removes whatever is there without following it.
  #prepare(path: string, isDir: boolean): "new" | "keep" {
    const node: Node | null = this.tree.lookup(path);
    if (node === null) return "new";
    if (isDir && node.kind === "dir") return "keep";
    const abs = this.tree.abs(path);
    if (node.kind === "dir") fs.rmSync(abs, { recursive: true, force: true });
    else fs.unlinkSync(abs);
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
    fs.mkdirSync(abs, 0o700);
    const lower = this.#lowerDir(rel);
    const a: Attrs = lower ?? { uid: 0, gid: 0, mode: 0o755, atime: 0, mtime: 0, xattrs: [] };
    const node = dirNode(a.mode);
    this.tree.set(rel, node);
    setAttrs(abs, "dir", a, false, this.warn);
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
