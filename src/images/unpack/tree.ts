// What is at each path under one layer directory, cached, and symlink resolution scoped to that
// directory (containerd's fs.RootPath), so no path Berth touches ever leaves the layer root.
import fs from "node:fs";
import { entryError, joinPath, splitPath } from "./names.js";

/** What is at a path; `sgid` (set-group-ID directory) means new files there take its group. */
export type Node = { kind: "dir"; sgid: boolean } | { kind: "symlink"; target: string } | { kind: "other" };

const DIR: Node = { kind: "dir", sgid: false };
const SGID_DIR: Node = { kind: "dir", sgid: true };
export const otherNode: Node = { kind: "other" };
export const dirNode = (mode: number): Node => ((mode & 0o2000) !== 0 ? SGID_DIR : DIR);

// Linux gives up after 40 links (MAXSYMLINKS); so does Berth.
const MAX_LINKS = 40;

/**
 * A view of a directory tree keyed by root-relative path ("" is the root). When `complete`,
 * every node is in the cache (the tree started empty and only Berth writes to it), so a miss
 * means "absent" and costs no syscall; otherwise misses are lstat'ed and remembered.
 *
 * The invariant that keeps lstat safe: a path is looked up on disk only after its parent is
 * known to be a real directory (not a symlink), so the kernel never follows a link on the way.
 */
export class LayerTree {
  readonly #nodes = new Map<string, Node | null>();
  constructor(
    readonly root: string,
    readonly complete: boolean,
  ) {
    this.#nodes.set("", DIR);
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
    this.#nodes.set(rel, node);
    return node;
  }

  /** Records what Berth just made at rel. */
  set(rel: string, node: Node): void {
    this.#nodes.set(rel, node);
  }

  /** Forgets rel and everything below it, after it was removed from disk. */
  removed(rel: string): void {
    const prefix = rel + "/";
    for (const key of this.#nodes.keys()) if (key.startsWith(prefix)) this.#nodes.delete(key);
    this.#nodes.set(rel, null);
  }

  /**
   * Resolves a cleaned path inside the root, following symlinks (the last one only if
   * followLast): an absolute target restarts at the root, ".." stops at the root. The result
   * has no symlink components; its parts may be directories, absent, or (an error later) files.
   */
  resolve(rel: string, followLast: boolean, entryName: string): string {
    if (rel === "") return "";
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
