// Where the content store keeps a blob: <dir>/blobs/<alg>/<hex> once verified, and
// <dir>/ingest/<alg>-<hex>.partial while it downloads (kept after an interruption for Range resume).
import { join } from "node:path";
import { validateDigest } from "../registry/reference.js";

export interface ContentPaths {
  blobs: string;
  ingest: string;
}

export function contentPaths(dir: string): ContentPaths {
  return { blobs: join(dir, "blobs"), ingest: join(dir, "ingest") };
}

/** Splits a validated digest into algorithm and hex; throws INVALID_ARGUMENT for anything else. */
export function splitDigest(digest: string): { alg: string; hex: string } {
  validateDigest(digest);
  const i = digest.indexOf(":");
  return { alg: digest.slice(0, i), hex: digest.slice(i + 1) };
}

export function blobPath(p: ContentPaths, digest: string): string {
  const { alg, hex } = splitDigest(digest);
  return join(p.blobs, alg, hex);
}

export function partialPath(p: ContentPaths, digest: string): string {
  const { alg, hex } = splitDigest(digest);
  return join(p.ingest, `${alg}-${hex}.partial`);
}
