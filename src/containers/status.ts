// ContainerStatus from memory: state, times, exit code and reason, image and image_ref, mounts,
// log path, resources, user, labels and annotations; with `verbose`, an "info" JSON (pid, OCI spec).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ContainerState,
  LinuxContainerResources,
  type Container as CriContainer,
  type ContainerStatus,
  type ContainerStatusResponse,
  type ImageSpec,
} from "../generated/runtime/v1/api.js";
import type { ContainerContext } from "./context.js";
import type { Container } from "./record.js";
import { effectiveStopSignal } from "./signals.js";

export function stateOf(c: Container): ContainerState {
  switch (c.rec.phase) {
    case "running":
      return ContainerState.CONTAINER_RUNNING;
    case "exited":
      return ContainerState.CONTAINER_EXITED;
    case "created":
      return ContainerState.CONTAINER_CREATED;
    default:
      return ContainerState.CONTAINER_UNKNOWN;
  }
}

/** The ImageSpec as CreateContainer gave it, its image the name the user asked for (kubelet sends the
 * image ID plus user_specified_image; kubectl shows this field); image_ref is its own field. */
export function imageSpecOf(c: Container): ImageSpec {
  const given = c.config.image;
  return {
    image: given?.userSpecifiedImage || c.rec.image.name,
    annotations: given?.annotations ?? {},
    userSpecifiedImage: given?.userSpecifiedImage ?? "",
    runtimeHandler: given?.runtimeHandler ?? "",
    imageRef: given?.imageRef ?? "",
  };
}

/** The digested reference of the image in use (CRI: "name@sha256:<manifest digest>"); image_id is the ID. */
export function imageRefOf(c: Container): string {
  return c.rec.image.digestedRef ?? c.rec.image.id;
}

/** The entry ListContainers returns. */
export function listEntry(c: Container): CriContainer {
  return {
    id: c.rec.id,
    podSandboxId: c.rec.podId,
    metadata: c.config.metadata,
    image: imageSpecOf(c),
    imageRef: imageRefOf(c),
    state: stateOf(c),
    createdAt: BigInt(c.rec.createdAt),
    labels: c.config.labels,
    annotations: c.config.annotations,
    imageId: c.rec.image.id,
  };
}

export function containerStatus(c: Container): ContainerStatus {
  const { rec } = c;
  return {
    id: rec.id,
    metadata: c.config.metadata,
    state: stateOf(c),
    createdAt: BigInt(rec.createdAt),
    startedAt: BigInt(rec.startedAt),
    finishedAt: BigInt(rec.finishedAt),
    exitCode: rec.exitCode,
    image: imageSpecOf(c),
    imageRef: imageRefOf(c),
    reason: rec.reason,
    message: rec.message,
    labels: c.config.labels,
    annotations: c.config.annotations,
    mounts: c.config.mounts,
    logPath: rec.logPath,
    resources: { linux: c.resources ?? LinuxContainerResources.fromPartial({}), windows: undefined },
    imageId: rec.image.id,
    user: { linux: { uid: BigInt(rec.user.uid), gid: BigInt(rec.user.gid), supplementalGroups: rec.user.additionalGids.map(BigInt) } },
    stopSignal: effectiveStopSignal(c.config.stopSignal, rec.image.stopSignal),
  };
}

/** The runtime binary and root a container's handler uses (the default runc when it has none). */
function runtimeOf(ctx: ContainerContext, handler: string | undefined): { runc: string; runcRoot: string } {
  try {
    const r = ctx.deps.oci.runcFor(handler);
    return { runc: r.path, runcRoot: r.root };
  } catch {
    return { runc: "", runcRoot: "" };
  }
}

/** What crictl inspect shows under "info" (one JSON document, as containerd does). */
export async function verboseInfo(ctx: ContainerContext, c: Container): Promise<Record<string, string>> {
  const { rec } = c;
  let runtimeSpec: unknown = null;
  try {
    runtimeSpec = JSON.parse(await readFile(join(rec.paths.bundle, "config.json"), "utf8"));
  } catch {
    // removed or never written (a half-made container): shown as null
  }
  return {
    info: JSON.stringify({
      sandboxID: rec.podId,
      pid: rec.phase === "exited" ? 0 : (rec.process?.pid ?? 0),
      phase: rec.phase,
      removing: false,
      snapshotter: "overlayfs",
      rootfs: join(rec.paths.bundle, "rootfs"),
      upperDir: join(rec.paths.dir, "upper"),
      imageLayers: rec.image.chainIds,
      runtimeType: "runc (conmon)",
      runtime: { handler: rec.process?.handler ?? "", ...runtimeOf(ctx, rec.process?.handler), conmon: ctx.deps.oci.conmonPath, conmonPid: rec.process?.conmonPid ?? 0 },
      bundle: rec.paths.bundle,
      cgroupsPath: rec.cgroupsPath,
      config: rec.config,
      runtimeSpec,
    }),
  };
}

export async function statusResponse(ctx: ContainerContext, ref: string, verbose: boolean): Promise<ContainerStatusResponse> {
  const c = ctx.get(ref);
  return { status: containerStatus(c), info: verbose ? await verboseInfo(ctx, c) : {} };
}
