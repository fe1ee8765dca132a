// Resolves an entry's parent in the merged (overlay) view of the layer over its lowers, as
// containerd's archive.Apply does through a mounted view: lib/x over lib -> usr/lib lands in usr/lib/x.
import { entryError, joinPath } from "./names.js";
import { MAX_LINKS, type LayerTree, type Node } from "./tree.js";

/**
 * `rel` resolved in the merged view of `upper` over `lowers` (topmost first), following every
 * symlink (absolute targets restart at the root, ".." stops there). A component is what the
 * topmost layer that has it holds there; lower directories merge below a directory until one
 * layer has a non-directory (file, symlink, whiteout) there. Known gap: opaque directories of
 * lowers are not read (that needs getxattr), so a lower below one is still consulted.
 * (containerd's overlay fast path, applying into the upper directory alone, would make a lib/
 * directory there that hides the lower symlink: the defect this avoids.)
 */
export function resolveMerged(upper: LayerTree, lowers: readonly LayerTree[], rel: string, entryName: string): string {
  if (lowers.length === 0 || upper.cachedDir(rel)) return upper.resolve(rel, true, entryName);
  const all = [upper, ...lowers];
  const todo = rel.split("/").reverse();
  const done: string[] = [];
  // visible[i]: the layers in which done[0..i) is a directory (so lookups below it are safe).
  const visible: LayerTree[][] = [all];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.pop();
    if (part === undefined || part === "" || part === ".") continue;
    if (part === "..") {
      if (done.length > 0) {
        done.pop();
        visible.pop();
      }
      continue;
    }
    const path = joinPath(done.join("/"), part);
    let found: Node | null = null;
    const below: LayerTree[] = [];
    for (const layer of visible[visible.length - 1] ?? []) {
      const node = layer.lookup(path);
      if (node === null) continue;
      found ??= node;
      if (found.kind !== "dir" || node.kind !== "dir") break;
      below.push(layer);
    }
    if (found?.kind === "symlink") {
      if (++links > MAX_LINKS) throw entryError(entryName, "too many levels of symbolic links");
      if (found.target.startsWith("/")) {
        done.length = 0;
        visible.length = 1;
      }
      const parts = found.target.split("/");
      for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i] ?? "");
      continue;
    }
    done.push(part);
    visible.push(found?.kind === "dir" ? below : []);
  }
  return done.join("/");
}
