// ContainerStatus's mounts: as CreateContainer gave them, each image volume's ImageSpec carrying the
// image_ref of the image mounted (the digested reference, as the pod's containerStatuses[].imageID).
import type { Mount } from "../generated/runtime/v1/api.js";
import type { Container } from "./record.js";

export function mountsOf(c: Container): Mount[] {
  const uses = c.rec.imageVolumes;
  if (!uses) return c.config.mounts;
  const out = [...c.config.mounts];
  for (const u of uses) {
    const m = out[u.mount];
    if (m?.image) out[u.mount] = { ...m, image: { ...m.image, imageRef: u.imageRef } };
  }
  return out;
}
