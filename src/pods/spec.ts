// Checks a RunPodSandbox request before anything is made and turns it into a PodSpec: every
// InvalidArgument (metadata, handler, namespaces, sysctls, DNS, ports, cgroup) is raised here.
import { hostname as hostHostname } from "node:os";
import { failedPrecondition, invalid } from "../errors.js";
import { NamespaceMode, Protocol, type IDMapping, type PodSandboxConfig, type RunPodSandboxRequest } from "../generated/runtime/v1/api.js";
import { capabilityArgs, cniArgs, type HostPortSpec } from "../network/cni/runtime-args.js";
import type { PodCgroup } from "../oci/cgroups-driver.js";
import type { IdMap } from "../oci/userns.js";
import { hasDnsConfig, resolvConfContent, type DnsConfig } from "./files.js";
import { sysctlDotName, validateSysctls } from "./namespaces.js";
import { podKey, type NsMode } from "./record.js";

export interface PodSpec {
  config: PodSandboxConfig;
  meta: { name: string; namespace: string; uid: string; attempt: number };
  key: string;
  runtimeHandler: string;
  ns: { network: NsMode; ipc: NsMode; pid: "pod" | "container" | "node" };
  hostname: string;
  /** Set in the new namespaces at pin time. */
  sysctls: Record<string, string>;
  /** Interface sysctls (net.ipv4.conf.eth0.*): applied once CNI made the interface. */
  lateSysctls: Record<string, string>;
  dns: DnsConfig | undefined;
  ports: HostPortSpec[];
  annotations: Record<string, string>;
  cgroup: PodCgroup;
  /** A pod user namespace (hostUsers: false) with kubelet's mappings. */
  userns?: { uids: IdMap[]; gids: IdMap[] };
}

export interface SpecContext {
  defaultHandler: string;
  knownHandlers: readonly string[];
  /** Handlers where the start-up probe (probeIdmappedMounts) found user namespaces unusable, with why. */
  usernsUnavailable?: ReadonlyMap<string, string>;
  /** Configured handlers whose start-up probe failed, with why: pods naming them are refused. */
  unusableHandlers?: ReadonlyMap<string, string>;
  podCgroup(cgroupParent: string, uid: string): PodCgroup;
}

const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$/;
const PROTOCOLS: Record<number, string> = { [Protocol.TCP]: "tcp", [Protocol.UDP]: "udp", [Protocol.SCTP]: "sctp" };

function text(v: string, what: string, max = 253): string {
  if (v === "") throw invalid(`PodSandboxConfig.metadata.${what} is required`);
  if (v.length > max || /[\0-\x1f/]/.test(v)) throw invalid(`PodSandboxConfig.metadata.${what} ${JSON.stringify(v)} must be at most ${max} characters without "/" or control characters`);
  return v;
}

function mode(v: NamespaceMode, what: string, allowed: readonly NamespaceMode[]): NamespaceMode {
  if (!allowed.includes(v)) {
    throw invalid(`linux.security_context.namespace_options.${what} ${NamespaceMode[v] ?? v} is not supported for a pod; use ${allowed.map((a) => NamespaceMode[a]).join(" or ")}`);
  }
  return v;
}

/** The hostname kubelet would give: the config's, else the pod name made into a valid host name. */
function podHostname(config: PodSandboxConfig, name: string, hostNetwork: boolean): string {
  if (config.hostname) {
    if (!hostNetwork && !HOSTNAME_RE.test(config.hostname)) throw invalid(`hostname ${JSON.stringify(config.hostname)} is not a valid host name (RFC 1123, at most 64 characters)`);
    return config.hostname;
  }
  if (hostNetwork) return hostHostname();
  const h = name.toLowerCase().replace(/[^a-z0-9.-]/g, "-").slice(0, 63).replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return h || "pod";
}

/** Sysctls naming an interface other than all/default/lo need the CNI-made interface. */
function isInterfaceSysctl(key: string): boolean {
  const m = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(sysctlDotName(key));
  return !!m && !["all", "default", "lo"].includes(m[1]!);
}

export function podSpec(req: RunPodSandboxRequest, ctx: SpecContext): PodSpec {
  const config = req.config;
  if (!config) throw invalid("RunPodSandboxRequest.config is required");
  const md = config.metadata;
  if (!md) throw invalid("PodSandboxConfig.metadata is required (name, uid, namespace)");
  const meta = { name: text(md.name, "name"), namespace: text(md.namespace, "namespace"), uid: text(md.uid, "uid", 128), attempt: md.attempt };

  const runtimeHandler = req.runtimeHandler || ctx.defaultHandler;
  if (!ctx.knownHandlers.includes(runtimeHandler)) {
    throw invalid(`runtime handler ${JSON.stringify(req.runtimeHandler)} is not configured; known handlers: ${ctx.knownHandlers.join(", ")}`);
  }
  const unusable = ctx.unusableHandlers?.get(runtimeHandler);
  if (unusable !== undefined) throw failedPrecondition(`runtime handler "${runtimeHandler}" cannot run pods on this node: ${unusable}`);

  const linux = config.linux;
  // CRI: the sandbox's run_as_group "should only be specified when run_as_user is specified;
  // otherwise, the runtime MUST error".
  if (linux?.securityContext?.runAsGroup !== undefined && linux.securityContext.runAsUser === undefined) {
    throw invalid(`pod sandbox "${meta.name}": linux.security_context.run_as_group is set without run_as_user: set run_as_user too, or leave run_as_group out`);
  }
  const opts = linux?.securityContext?.namespaceOptions;
  const net = mode(opts?.network ?? NamespaceMode.POD, "network", [NamespaceMode.POD, NamespaceMode.NODE]);
  const ipc = mode(opts?.ipc ?? NamespaceMode.POD, "ipc", [NamespaceMode.POD, NamespaceMode.NODE]);
  const pid = mode(opts?.pid ?? NamespaceMode.POD, "pid", [NamespaceMode.POD, NamespaceMode.CONTAINER, NamespaceMode.NODE]);
  const userns = usernsOf(opts?.usernsOptions, { hostNetwork: net === NamespaceMode.NODE, hostIpc: ipc === NamespaceMode.NODE, hostPid: pid === NamespaceMode.NODE }, ctx.usernsUnavailable?.get(runtimeHandler));
  // The infra process's PID namespace is made outside the pod's user namespace, so its containers could not join it.
  if (userns && pid === NamespaceMode.POD) {
    throw invalid("linux.security_context.namespace_options: a shared PID namespace (pid POD, shareProcessNamespace) with a pod user namespace (hostUsers: false) is not supported by Berth yet; use one or the other");
  }
  const ns = {
    network: net === NamespaceMode.NODE ? ("node" as const) : ("pod" as const),
    ipc: ipc === NamespaceMode.NODE ? ("node" as const) : ("pod" as const),
    pid: pid === NamespaceMode.NODE ? ("node" as const) : pid === NamespaceMode.CONTAINER ? ("container" as const) : ("pod" as const),
  };

  const all = linux?.sysctls ?? {};
  validateSysctls(all, { hostNetwork: ns.network === "node", hostIpc: ns.ipc === "node" });
  const sysctls: Record<string, string> = {};
  const lateSysctls: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) (isInterfaceSysctl(k) ? lateSysctls : sysctls)[k] = v;

  const dns: DnsConfig | undefined = config.dnsConfig;
  if (hasDnsConfig(dns)) resolvConfContent(dns);

  const ports: HostPortSpec[] = config.portMappings.map((p) => {
    const protocol = PROTOCOLS[p.protocol];
    if (!protocol) throw invalid(`port mapping ${p.hostPort}:${p.containerPort}: unknown protocol ${p.protocol}`);
    // Container-only ports (hostPort 0) never reach portmap but are stored with the pod: check them too.
    for (const [k, v] of [["hostPort", p.hostPort], ["containerPort", p.containerPort]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 65535) throw invalid(`port mapping ${p.hostPort}:${p.containerPort}: ${k} ${v} is not a port number (0-65535)`);
    }
    return { hostPort: p.hostPort, containerPort: p.containerPort, protocol, hostIp: p.hostIp };
  });
  const podRef = { id: "0".repeat(64), name: meta.name, namespace: meta.namespace, uid: meta.uid };
  cniArgs(podRef);
  capabilityArgs({ ports, annotations: config.annotations });

  return {
    config,
    meta,
    key: podKey(meta),
    runtimeHandler,
    ns,
    hostname: podHostname(config, meta.name, ns.network === "node"),
    sysctls,
    lateSysctls,
    dns: hasDnsConfig(dns) ? dns : undefined,
    ports,
    annotations: config.annotations,
    cgroup: ctx.podCgroup(linux?.cgroupParent ?? "", meta.uid),
    ...(userns ? { userns } : {}),
  };
}

const UINT32_MAX = 0xffff_ffff;
/** The kernel takes at most 340 lines in uid_map/gid_map. */
const MAX_MAP_LINES = 340;

function idMaps(list: readonly IDMapping[], field: string): IdMap[] {
  if (list.length === 0) throw invalid(`${field} is empty: a pod user namespace needs ID mappings`);
  if (list.length > MAX_MAP_LINES) throw invalid(`${field} has ${list.length} mappings; the kernel takes at most ${MAX_MAP_LINES}`);
  return list.map((m, i) => {
    const ok = (v: number) => Number.isInteger(v) && v >= 0 && v <= UINT32_MAX;
    if (!ok(m.hostId) || !ok(m.containerId) || !ok(m.length) || m.length === 0 || m.hostId + m.length > UINT32_MAX + 1 || m.containerId + m.length > UINT32_MAX + 1) {
      throw invalid(`${field}[${i}] (host_id ${m.hostId}, container_id ${m.containerId}, length ${m.length}) is not a valid ID range`);
    }
    return { containerId: m.containerId, hostId: m.hostId, length: m.length };
  });
}

/** userns_options: NODE (or unset) is the host's; POD needs mappings, pod namespaces and a host that can idmap. */
function usernsOf(
  u: { mode: NamespaceMode; uids: IDMapping[]; gids: IDMapping[] } | undefined,
  host: { hostNetwork: boolean; hostIpc: boolean; hostPid: boolean },
  unavailable: string | undefined,
): PodSpec["userns"] {
  const field = "linux.security_context.namespace_options.userns_options";
  if (!u || u.mode === NamespaceMode.NODE) return undefined;
  if (u.mode !== NamespaceMode.POD) throw invalid(`${field}.mode ${NamespaceMode[u.mode] ?? u.mode} is not supported; use NODE or POD`);
  const shared = Object.entries(host).filter(([, v]) => v).map(([k]) => k);
  if (shared.length > 0) throw invalid(`${field}.mode is POD (hostUsers: false) but the pod also asks for ${shared.join(", ")}: a pod user namespace needs the pod's own namespaces`);
  if (unavailable !== undefined) throw failedPrecondition(`${field}.mode is POD (hostUsers: false) but user namespaces cannot work on this node with this runtime handler: ${unavailable}`);
  return { uids: idMaps(u.uids, `${field}.uids`), gids: idMaps(u.gids, `${field}.gids`) };
}
