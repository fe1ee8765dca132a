// Lexical rules for tar entry names: cleaning, refusing escapes from the layer root, and
// recognising OCI whiteouts (.wh.<name>, .wh..wh..opq). No filesystem access here.
import { invalid, type BerthError } from "../../errors.js";

export const WHITEOUT_PREFIX = ".wh.";
export const WHITEOUT_META_PREFIX = ".wh..wh.";
export const OPAQUE_WHITEOUT = ".wh..wh..opq";

/** An error about one layer entry, in the form every unpack error takes. */
export function entryError(name: string, rule: string): BerthError {
  return invalid(`layer entry ${JSON.stringify(name)}: ${rule}`);
}

/**
 * The entry's path relative to the layer root, cleaned ("" is the root itself). A leading "/"
 * means the layer root, as in containerd; a ".." that would climb above the root is refused.
 */
export function cleanName(name: string, maxLength: number, what = "path"): string {
  if (name.includes("\0")) throw entryError(name, `${what} contains a NUL byte`);
  if (Buffer.byteLength(name) > maxLength) {
    throw entryError(name.slice(0, 200) + "…", `${what} is longer than ${maxLength} bytes`);
  }
  const out: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) throw entryError(name, `${what} escapes the layer root`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join("/");
}

/** The parent ("" for top-level) and last component of a cleaned, non-root path. */
export function splitPath(rel: string): { parent: string; base: string } {
  const i = rel.lastIndexOf("/");
  return i < 0 ? { parent: "", base: rel } : { parent: rel.slice(0, i), base: rel.slice(i + 1) };
}

export function joinPath(parent: string, base: string): string {
  return parent === "" ? base : `${parent}/${base}`;
}

export type Whiteout = { kind: "none" } | { kind: "opaque" } | { kind: "file"; name: string };

/** What a base name means as a whiteout (OCI image-spec layer.md "Whiteouts"). */
export function whiteoutOf(entryName: string, base: string): Whiteout {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: "none" };
  if (base === OPAQUE_WHITEOUT) return { kind: "opaque" };
  if (base.startsWith(WHITEOUT_META_PREFIX)) {
    throw entryError(entryName, `whiteout metadata "${base}" (AUFS) is not supported`);
  }
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === "" || name === "." || name === "..") {
    throw entryError(entryName, `invalid whiteout "${base}": it names no file`);
  }
  return { kind: "file", name };
}
