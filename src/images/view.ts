// What list and status show of an image: its record as CRI sees it (uid or username from the
// config's User, as containerd derives them; pinned for the sandbox image) and verbose info.
import type { ImageRecord } from "./store.js";

export interface ImageView {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  /** Set when the config's User is numeric ("1000" or "1000:1000"). */
  uid?: number;
  /** Set when the config's User is a name ("app" or "app:grp"). */
  username: string;
  pinned: boolean;
}

/** `sandboxRef`: the normalised name:tag or name@digest of images.sandbox_image ("" for none). */
export function viewOf(rec: ImageRecord, sandboxTag: string): ImageView {
  const user = rec.user.split(":")[0] ?? "";
  const v: ImageView = {
    id: rec.id,
    repoTags: [...rec.repoTags],
    repoDigests: [...rec.repoDigests],
    size: rec.size,
    username: "",
    pinned: sandboxTag !== "" && (rec.repoTags.includes(sandboxTag) || rec.repoDigests.includes(sandboxTag)),
  };
  if (/^\d+$/.test(user)) v.uid = Number(user);
  else v.username = user;
  return v;
}

/** ImageStatus verbose info: one JSON document under "info", the image config as `imageSpec`. */
export function verboseInfo(rec: ImageRecord, configJson: Buffer, lowerDirs: string[]): Record<string, string> {
  let imageSpec: unknown;
  try {
    imageSpec = JSON.parse(configJson.toString("utf8"));
  } catch {
    imageSpec = null;
  }
  const doc = {
    imageSpec,
    chainID: rec.layers.at(-1)?.chainId ?? "",
    manifest: { digest: rec.manifestDigest, mediaType: rec.manifestMediaType, size: rec.manifestSize },
    layers: rec.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, diffID: l.diffId, chainID: l.chainId })),
    lowerDirs,
  };
  return { info: JSON.stringify(doc) };
}
