// Which namespaces the container gets: the pod's pinned ones joined by path, new ones where
// the pod has none pinned, and no entry at all where the pod uses the host's (NODE).
import { invalid } from "../../errors.js";
import { NamespaceMode, type IDMapping, type NamespaceOption } from "../../generated/runtime/v1/api.js";
import type { PodNamespacePaths } from "./input.js";
import { toId, toInt, UINT32_MAX } from "./numbers.js";
import type { OciIdMapping, OciNamespace, OciNamespaceType } from "./oci-types.js";

export interface NamespaceInput {
  /** The pod's options decide network, IPC and user namespaces: the pod was built that way. */
  pod: NamespaceOption | undefined;
  /** The container's options decide its PID namespace (POD, CONTAINER or TARGET). */
  container: NamespaceOption | undefined;
  paths: PodNamespacePaths;
  targetPidNamespace?: string;
  privileged: boolean;
  cgroupV2: boolean;
  userNamespacesEnabled: boolean;
}

export interface NamespacePlan {
  namespaces: OciNamespace[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  /** The container has a UTS namespace of its own, so the spec may set its hostname. */
  newUts: boolean;
  /** The pod runs in a user namespace (kubelet's hostUsers: false). */
  userns: boolean;
}

function entry(type: OciNamespaceType, path: string | undefined): OciNamespace {
  return path ? { type, path } : { type };
}

function mappings(list: readonly IDMapping[], field: string): OciIdMapping[] {
  if (list.length === 0) throw invalid(`${field} is empty: a user namespace needs ID mappings`);
  return list.map((m, i) => {
    const size = toInt(m.length, `${field}[${i}].length`, 1, UINT32_MAX);
    return { containerID: toId(m.containerId, `${field}[${i}].container_id`), hostID: toId(m.hostId, `${field}[${i}].host_id`), size };
  });
}

export function buildNamespaces(input: NamespaceInput): NamespacePlan {
  const net = input.pod?.network ?? input.container?.network ?? NamespaceMode.POD;
  const ipc = input.pod?.ipc ?? input.container?.ipc ?? NamespaceMode.POD;
  const pid = input.container?.pid ?? input.pod?.pid ?? NamespaceMode.CONTAINER;
  const userns = input.pod?.usernsOptions ?? input.container?.usernsOptions;
  const out: OciNamespace[] = [];

  switch (pid) {
    case NamespaceMode.NODE:
      break;
    case NamespaceMode.POD:
      out.push(entry("pid", input.paths.pid));
      break;
    case NamespaceMode.CONTAINER:
      out.push({ type: "pid" });
      break;
    case NamespaceMode.TARGET:
      if (!input.targetPidNamespace) {
        throw invalid(`linux.security_context.namespace_options.pid is TARGET but target container ${JSON.stringify(input.container?.targetId ?? "")} has no PID namespace to join`);
      }
      out.push({ type: "pid", path: input.targetPidNamespace });
      break;
    default:
      throw invalid(`linux.security_context.namespace_options.pid ${String(pid)} is not NODE, POD, CONTAINER or TARGET`);
  }

  if (net !== NamespaceMode.NODE && net !== NamespaceMode.POD) throw invalid(`namespace_options.network ${String(net)} must be POD or NODE`);
  if (ipc !== NamespaceMode.NODE && ipc !== NamespaceMode.POD) throw invalid(`namespace_options.ipc ${String(ipc)} must be POD or NODE`);
  // Host network also means the host's UTS namespace (kubelet has no separate UTS option).
  const hostNet = net === NamespaceMode.NODE;
  if (!hostNet) out.push(entry("network", input.paths.net));
  if (ipc !== NamespaceMode.NODE) out.push(entry("ipc", input.paths.ipc));
  if (!hostNet) out.push(entry("uts", input.paths.uts));
  out.push({ type: "mount" });
  // containerd and CRI-O give unprivileged containers their own cgroup namespace on cgroup v2.
  if (input.cgroupV2 && !input.privileged) out.push({ type: "cgroup" });

  const plan: NamespacePlan = { namespaces: out, newUts: !hostNet && !input.paths.uts, userns: false };
  const umode = userns?.mode ?? NamespaceMode.NODE;
  if (umode === NamespaceMode.POD && userns) {
    if (!input.userNamespacesEnabled) {
      throw invalid("namespace_options.userns_options.mode is POD (hostUsers: false) but user namespaces are not enabled on this node");
    }
    out.push(entry("user", input.paths.user));
    // runc 1.1 wants the mappings even when it joins an existing user namespace.
    plan.uidMappings = mappings(userns.uids, "namespace_options.userns_options.uids");
    plan.gidMappings = mappings(userns.gids, "namespace_options.userns_options.gids");
    plan.userns = true;
  } else if (umode !== NamespaceMode.NODE) {
    throw invalid(`namespace_options.userns_options.mode ${String(umode)} must be NODE or POD`);
  }
  return plan;
}
