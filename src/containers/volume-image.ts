// An image record as an image volume needs it: its ID, layers and digested reference (the mount's
// image_ref in ContainerStatus: "name@sha256:<manifest digest>", pullable, else the image ID).
import type { VolumeImage } from "./image-volumes.js";

/** The fields of a stored image this reads (images/store.ts's ImageRecord). */
interface StoredImage {
  id: string;
  repoDigests: string[];
  layers: Array<{ chainId: string }>;
}

/** The repo digest in the repository `ref` names when it names one it holds, else the first, else the ID. */
export function volumeImage(rec: StoredImage | undefined, ref: string): VolumeImage | undefined {
  if (!rec) return undefined;
  const same = rec.repoDigests.find((d) => {
    const name = d.slice(0, d.indexOf("@"));
    return ref === name || ref.startsWith(`${name}:`) || ref.startsWith(`${name}@`);
  });
  return { id: rec.id, chainIds: rec.layers.map((l) => l.chainId), imageRef: same ?? rec.repoDigests[0] ?? rec.id };
}
