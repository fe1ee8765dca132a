// The shapes of a CDI spec file (Container Device Interface, cncf-tags SPEC.md up to 1.1.0) as
// Berth holds them once parsed and checked: field names as the spec writes them, lists never absent.

export interface CdiDeviceNode {
  /** Path inside the container. */
  path: string;
  hostPath?: string;
  /** "b", "c", "u" or "p"; absent: read from the host node. */
  type?: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  /** Made of r, w and m; "" means rwm; "none" means no cgroup access rule. */
  permissions?: string;
  uid?: number;
  gid?: number;
}

export interface CdiMount {
  hostPath: string;
  containerPath: string;
  options?: string[];
  type?: string;
}

export const CDI_HOOK_NAMES = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] as const;
export type CdiHookName = (typeof CDI_HOOK_NAMES)[number];

export interface CdiHook {
  hookName: CdiHookName;
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface CdiIntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  schemata?: string[];
  enableMonitoring?: boolean;
}

export interface CdiNetDevice {
  hostInterfaceName: string;
  name: string;
}

export interface CdiContainerEdits {
  env: string[];
  deviceNodes: CdiDeviceNode[];
  netDevices: CdiNetDevice[];
  hooks: CdiHook[];
  mounts: CdiMount[];
  intelRdt?: CdiIntelRdt;
  additionalGids: number[];
}

export interface CdiDevice {
  name: string;
  annotations: Record<string, string>;
  containerEdits: CdiContainerEdits;
}

/** A spec file's content after parsing (field types checked, nothing else yet). */
export interface CdiRawSpec {
  cdiVersion: string;
  kind: string;
  annotations: Record<string, string>;
  devices: CdiDevice[];
  containerEdits: CdiContainerEdits;
}

/** A spec that passed validation, with where it came from. */
export interface CdiSpec extends CdiRawSpec {
  path: string;
  /** Index of its directory in the configured list: later directories win. */
  priority: number;
  vendor: string;
  class: string;
}

/** One set of edits to apply, and what asked for it (for errors). */
export interface CdiEditSource {
  /** e.g. `CDI device "vendor.com/gpu=0" (/etc/cdi/vendor.yaml)`. */
  source: string;
  edits: CdiContainerEdits;
}

/** What CreateContainer applies to the OCI spec: spec-level then device-level edits, in request order. */
export interface CdiInjection {
  /** The fully qualified names requested, deduplicated, in order. */
  devices: string[];
  parts: CdiEditSource[];
}

export function emptyEdits(): CdiContainerEdits {
  return { env: [], deviceNodes: [], netDevices: [], hooks: [], mounts: [], additionalGids: [] };
}
