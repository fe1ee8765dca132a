// The Stream* list RPCs of CRI 1.36 and the metric RPCs: the same service answers as their List
// twins, written in chunks of STREAM_CHUNK items (the responses carry repeated fields).
import type { ImageServiceServer, RuntimeServiceServer } from "../generated/runtime/v1/api.js";
import type { ContainerService } from "../containers/service.js";
import type { ImageService } from "../images/service.js";
import type { PodService } from "../pods/service.js";
import { unary } from "./call.js";
import { toImage } from "./images.js";
import { serverStream, writeChunks } from "./stream.js";

type RuntimeHandlers = Pick<
  RuntimeServiceServer,
  | "streamPodSandboxes"
  | "streamContainers"
  | "streamContainerStats"
  | "streamPodSandboxStats"
  | "streamPodSandboxMetrics"
  | "listMetricDescriptors"
  | "listPodSandboxMetrics"
>;

export function listStreamHandlers(pods: PodService, containers: ContainerService): RuntimeHandlers {
  return {
    streamPodSandboxes: serverStream("StreamPodSandboxes", (req, out) =>
      writeChunks(out, pods.list({ filter: req.filter }), (podSandboxes) => ({ podSandboxes }))),
    streamContainers: serverStream("StreamContainers", (req, out) =>
      writeChunks(out, containers.list(req.filter), (c) => ({ containers: c }))),
    streamContainerStats: serverStream("StreamContainerStats", async (req, out) =>
      writeChunks(out, await containers.stats.listContainers(req.filter), (containerStats) => ({ containerStats }))),
    streamPodSandboxStats: serverStream("StreamPodSandboxStats", async (req, out) =>
      writeChunks(out, await containers.stats.listPods(req.filter), (podSandboxStats) => ({ podSandboxStats }))),
    streamPodSandboxMetrics: serverStream("StreamPodSandboxMetrics", async (_req, out) =>
      writeChunks(out, await containers.stats.podMetrics(), (podSandboxMetrics) => ({ podSandboxMetrics }))),
    listMetricDescriptors: unary("ListMetricDescriptors", () => ({ descriptors: containers.stats.metricDescriptors() })),
    listPodSandboxMetrics: unary("ListPodSandboxMetrics", async () => ({ podMetrics: await containers.stats.podMetrics() })),
  };
}

export function imageStreamHandlers(images: ImageService): Pick<ImageServiceServer, "streamImages"> {
  return {
    streamImages: serverStream("StreamImages", (req, out) =>
      writeChunks(out, images.list(req.filter?.image?.image).map(toImage), (i) => ({ images: i }))),
  };
}
