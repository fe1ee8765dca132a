// RemoveImage: by ID, tag or digest; idempotent (kubelet retries). Removing one of several tags
// only untags; otherwise the image goes and GC deletes the layers and blobs nothing else uses.
import { logger } from "../util/log.js";
import type { ImageContext } from "./context.js";

const log = logger("images");

export interface RemoveResult {
  /** The image ID the input named, if it named one. */
  id?: string;
  /** "untagged" (other tags keep the image), "removed", or "absent" (already gone: not an error). */
  outcome: "untagged" | "removed" | "absent";
}

export async function removeImage(ctx: ImageContext, input: string): Promise<RemoveResult> {
  const m = ctx.images.find(input);
  // CRI: RemoveImage of an image that does not exist succeeds (kubelet's GC and retries rely on it).
  if (!m) return { outcome: "absent" };
  const img = m.image;
  if (m.by === "tag" && m.ref !== undefined && img.repoTags.length > 1) {
    ctx.images.save({ ...img, repoTags: img.repoTags.filter((t) => t !== m.ref) });
    log.info({ image: img.id, tag: m.ref }, "image untagged");
    return { id: img.id, outcome: "untagged" };
  }
  ctx.images.delete(img.id);
  log.info({ image: img.id, by: m.by }, "image removed");
  await ctx.gc();
  return { id: img.id, outcome: "removed" };
}
