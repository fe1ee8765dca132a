// What is at each path under one layer directory, cached, and symlink resolution scoped to that
// directory (containerd's fs.RootPath), so no path Berth touches ever leaves the layer root.
import fs from "node:fs";
import { entryError, joinPath, splitPath } from "./names.js";

/**
 * What is at a path; `sgid` (set-group-ID directory) means new files there take its group.
 * Each directory node is a fresh object, so identity tells "still the directory made then".
 */
export type DirNode = { kind: "dir"; sgid: boolean };
export type Node = DirNode | { kind: "symlink"; target: string } | { kind: "other" };

export const otherNode: Node = { kind: "other" };
export const dirNode = (mode: number): DirNode => ({ kind: "dir", sgid: (mode & 0o2000) !== 0 });

// Linux gives up after 40 links (MAXSYMLINKS); so does Berth.
export const MAX_LINKS = 40;

/**
 * A view of a directory tree keyed by root-relative path ("" is the root). When `complete`,
 * every node is in the cache (the tree started empty and only Berth writes to it), so a miss
 * means "absent" and costs no syscall; otherwise misses are lstat'ed and remembered.
 *
 * The invariant that keeps lstat safe: a path is looked up on disk only after its parent is
 * known to be a real directory (not a symlink), so the kernel never follows a link on the way.
 * Hence a path cached as a directory has only real directories above it.
 */
export class LayerTree {
  readonly #nodes = new Map<string, Node | null>();
  // Cached names under each directory, so removing a subtree costs its size, not the tree's
  // (a layer replacing many directories must not make this quadratic).
  readonly #children = new Map<string, Set<string>>();
  constructor(
    readonly root: string,
    readonly complete: boolean,
    rootMode = 0o755,
  ) {
    this.#nodes.set("", dirNode(rootMode));
  }

  #put(rel: string, node: Node | null): void {
    if (!this.#nodes.has(rel) && rel !== "") {
      const parent = splitPath(rel).parent;
      let set = this.#children.get(parent);
      if (!set) this.#children.set(parent, (set = new Set()));
      set.add(rel);
    }
    this.#nodes.set(rel, node);
  }

  #forgetBelow(rel: string): void {
    const kids = this.#children.get(rel);
    if (!kids) return;
    this.#children.delete(rel);
    for (const k of kids) {
      this.#forgetBelow(k);
      this.#nodes.delete(k);
    }
  }

  abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }

  lookup(rel: string): Node | null {
    const hit = this.#nodes.get(rel);
    if (hit !== undefined) return hit;
    if (this.complete) return null;
    let node: Node | null = null;
    if (this.lookup(splitPath(rel).parent)?.kind === "dir") {
      const st = fs.lstatSync(this.abs(rel), { throwIfNoEntry: false });
      if (st === undefined) node = null;
      else if (st.isDirectory()) node = dirNode(st.mode);
      else if (st.isSymbolicLink()) node = { kind: "symlink", target: fs.readlinkSync(this.abs(rel)) };
      else node = otherNode;
    }
    this.#put(rel, node);
    return node;
  }

  /** True when rel is cached as a directory: then it has no symlink in it (see the class comment). */
  cachedDir(rel: string): boolean {
    return this.#nodes.get(rel)?.kind === "dir";
  }

  /** Records what Berth just made at rel. */
  set(rel: string, node: Node): void {
    this.#put(rel, node);
  }

  /** Forgets everything below rel and marks rel absent, after it was removed from disk. */
  removed(rel: string): void {
    this.#forgetBelow(rel);
    this.#put(rel, null);
  }

  /**
   * Resolves a cleaned path inside the root, following symlinks (the last one only if
   * followLast): an absolute target restarts at the root, ".." stops at the root. The result
   * has no symlink components; its parts may be directories, absent, or (an error later) files.
   */
  resolve(rel: string, followLast: boolean, entryName: string): string {
    // Fast path: a path cached as a directory has no symlinks in it (see the class comment).
    if (this.cachedDir(rel)) return rel;
    const todo = rel.split("/").reverse();
    const done: string[] = [];
    let links = 0;
    while (todo.length > 0) {
      const part = todo.pop();
      if (part === undefined || part === "" || part === ".") continue;
      if (part === "..") {
        done.pop();
        continue;
      }
      const node = this.lookup(joinPath(done.join("/"), part));
      if (node?.kind !== "symlink" || (todo.length === 0 && !followLast)) {
        done.push(part);
        continue;
      }
      if (++links > MAX_LINKS) throw entryError(entryName, "too many levels of symbolic links");
      if (node.target.startsWith("/")) done.length = 0;
      const parts = node.target.split("/");
      for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i] ?? "");
    }
    return done.join("/");
  }
}
