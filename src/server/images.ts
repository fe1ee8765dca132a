// CRI ImageService handlers: PullImage, ListImages, ImageStatus, RemoveImage, ImageFsInfo.
// Each maps the request to the image service and its answer back to the wire types.
import type { FilesystemUsage, Image, ImageServiceServer } from "../generated/runtime/v1/api.js";
import { invalid } from "../errors.js";
import type { FsUsage } from "../images/fsinfo.js";
import type { ImageService } from "../images/service.js";
import type { ImageView } from "../images/view.js";
import { unary } from "./call.js";

type Handlers = Pick<ImageServiceServer, "pullImage" | "listImages" | "imageStatus" | "removeImage" | "imageFsInfo">;

export function toImage(v: ImageView): Image {
  return {
    id: v.id,
    repoTags: v.repoTags,
    repoDigests: v.repoDigests,
    size: BigInt(v.size),
    uid: v.uid === undefined ? undefined : { value: BigInt(v.uid) },
    username: v.username,
    spec: { image: v.id, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: v.id },
    pinned: v.pinned,
  };
}

function toUsage(u: FsUsage): FilesystemUsage {
  return {
    timestamp: u.timestamp,
    fsId: { mountpoint: u.mountpoint },
    usedBytes: { value: BigInt(u.bytes) },
    inodesUsed: { value: BigInt(u.inodes) },
  };
}

function required(image: string | undefined, rpc: string): string {
  if (!image) throw invalid(`${rpc}: image.image is empty; give an image reference or ID`);
  return image;
}

export function imageHandlers(images: ImageService): Handlers {
  return {
    pullImage: unary("PullImage", async (req, callContext) => {
      const image = required(req.image?.image, "PullImage");
      const a = req.auth;
      const auth = a && {
        username: a.username, password: a.password, auth: a.auth, serverAddress: a.serverAddress,
        identityToken: a.identityToken, registryToken: a.registryToken,
      };
      return { imageRef: await images.pull(image, auth, callContext.signal) };
    }),
    listImages: unary("ListImages", (req) => ({ images: images.list(req.filter?.image?.image).map(toImage) })),
    imageStatus: unary("ImageStatus", async (req) => {
      // CRI: an image that is not present is a response without image, not an error.
      const s = await images.status(required(req.image?.image, "ImageStatus"), req.verbose);
      return { image: s.image && toImage(s.image), info: s.info };
    }),
    removeImage: unary("RemoveImage", async (req) => {
      await images.remove(required(req.image?.image, "RemoveImage"));
      return {};
    }),
    imageFsInfo: unary("ImageFsInfo", async () => {
      const u = await images.fsUsage();
      return { imageFilesystems: [toUsage(u.images)], containerFilesystems: [toUsage(u.containers)] };
    }),
  };
}
