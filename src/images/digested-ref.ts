// The digested reference ("name@sha256:<manifest digest>") of a stored image, as ContainerStatus's
// image_ref wants it: a name anyone can pull, preferring the repository the user asked for.
import { parseReference, formatDigested } from "./registry/reference.js";
import type { ImageRecord } from "./store.js";

/** The repository a reference names ("docker.io/library/busybox"), or undefined for an image ID. */
function repositoryOf(asked: string): { name: string; digest?: string } | undefined {
  const s = asked.trim();
  if (s === "" || s.startsWith("sha256:") || /^[0-9a-f]{64}$/.test(s)) return undefined;
  try {
    const ref = parseReference(s);
    return ref.digest ? { name: ref.name, digest: ref.digest } : { name: ref.name };
  } catch {
    return undefined;
  }
}

/**
 * `asked` digested if it was a digest; else this image's repo digest in the asked repository;
 * else its first repo digest; else its first tag's repository with the manifest digest; else the ID.
 */
export function digestedReference(rec: Pick<ImageRecord, "id" | "repoTags" | "repoDigests" | "manifestDigest">, asked: string): string {
  const want = repositoryOf(asked);
  if (want?.digest && rec.repoDigests.includes(formatDigested(want.name, want.digest))) return formatDigested(want.name, want.digest);
  const sameRepo = want ? rec.repoDigests.find((d) => d.startsWith(`${want.name}@`)) : undefined;
  if (sameRepo) return sameRepo;
  if (rec.repoDigests[0]) return rec.repoDigests[0];
  const tag = rec.repoTags[0];
  if (tag && rec.manifestDigest) {
    const name = repositoryOf(tag)?.name;
    if (name) return formatDigested(name, rec.manifestDigest);
  }
  return rec.id;
}
