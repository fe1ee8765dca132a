// Lexical clean-up of container paths from CRI and image configs, so comparisons ("is /etc/hosts
// already mounted?") and checks ("never a volume at /") work on one spelling of each path.
import { posix } from "node:path";
import { invalid } from "../../errors.js";

/** `p` normalised (no `.`, `..`, `//`, trailing `/`), or an INVALID_ARGUMENT naming `field` if not absolute. */
export function cleanAbs(p: string, field: string): string {
  if (!p.startsWith("/")) throw invalid(`${field} ${JSON.stringify(p)} must be an absolute path`);
  if (p.includes("\0")) throw invalid(`${field} ${JSON.stringify(p)} must not contain NUL`);
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** Number of path components, for parent-before-child mount order ("/" is 0). */
export function depth(p: string): number {
  return p === "/" ? 0 : p.split("/").length - 1;
}

/** True when `p` is `dir` or below it (both cleaned). */
export function isUnder(p: string, dir: string): boolean {
  return dir === "/" || p === dir || p.startsWith(`${dir}/`);
}
