// Annotations in config.json: the CRI config's own plus the io.kubernetes.cri.* keys containerd
// writes (container type, sandbox, names, image), which tools and a restarted daemon read back.
import type { ContainerConfig, PodSandboxConfig } from "../../generated/runtime/v1/api.js";

export const ANNOTATIONS = {
  containerType: "io.kubernetes.cri.container-type",
  sandboxId: "io.kubernetes.cri.sandbox-id",
  sandboxName: "io.kubernetes.cri.sandbox-name",
  sandboxNamespace: "io.kubernetes.cri.sandbox-namespace",
  sandboxUid: "io.kubernetes.cri.sandbox-uid",
  containerName: "io.kubernetes.cri.container-name",
  imageName: "io.kubernetes.cri.image-name",
} as const;

/** Keys under this prefix are Berth's to write; a CRI config cannot set or spoof them. */
export const RESERVED_PREFIX = "io.kubernetes.cri.";

export interface AnnotationInput {
  config: ContainerConfig;
  sandboxConfig: PodSandboxConfig;
  sandboxId: string;
  imageName: string;
  extra: Readonly<Record<string, string>>;
}

export function buildAnnotations(input: AnnotationInput): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.config.annotations)) if (!k.startsWith(RESERVED_PREFIX)) out[k] = v;
  Object.assign(out, input.extra);
  const meta = input.sandboxConfig.metadata;
  out[ANNOTATIONS.containerType] = "container";
  out[ANNOTATIONS.sandboxId] = input.sandboxId;
  out[ANNOTATIONS.sandboxName] = meta?.name ?? "";
  out[ANNOTATIONS.sandboxNamespace] = meta?.namespace ?? "";
  out[ANNOTATIONS.sandboxUid] = meta?.uid ?? "";
  out[ANNOTATIONS.containerName] = input.config.metadata?.name ?? "";
  out[ANNOTATIONS.imageName] = input.imageName;
  return out;
}
