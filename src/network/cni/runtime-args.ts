// What the runtime tells CNI plugins about a pod: CNI_ARGS, the capability args (hostPorts,
// DNS, bandwidth from annotations) and the per-plugin netconf with runtimeConfig filtered.
import { invalid } from "../../errors.js";
import type {
  BandwidthCapability,
  CapabilityArgs,
  DnsCapability,
  Json,
  JsonObject,
  NetConfList,
  PluginConf,
  PortMapping,
} from "./types.js";

export interface PodRef {
  /** Sandbox id: CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID. */
  id: string;
  name: string;
  namespace: string;
  uid: string;
}

export function cniArgs(pod: PodRef): string {
  for (const [k, v] of Object.entries(pod)) {
    // CNI_ARGS is `K=V;K=V`: these would break its framing.
    if (/[;=\0]/.test(v)) throw invalid(`pod ${k} ${JSON.stringify(v)} contains ";", "=" or NUL, which CNI_ARGS cannot carry`);
  }
  return [
    "IgnoreUnknown=1",
    `K8S_POD_NAMESPACE=${pod.namespace}`,
    `K8S_POD_NAME=${pod.name}`,
    `K8S_POD_INFRA_CONTAINER_ID=${pod.id}`,
    `K8S_POD_UID=${pod.uid}`,
  ].join(";");
}

/** CRI PortMapping as the service passes it (protocol already a lowercase name). */
export interface HostPortSpec {
  hostPort: number;
  containerPort: number;
  protocol?: string;
  hostIp?: string;
}

/** Only mappings with a host port go to portmap; CRI sends container-only ports too. */
export function portMappings(ports: readonly HostPortSpec[]): PortMapping[] {
  const out: PortMapping[] = [];
  for (const p of ports) {
    if (!p.hostPort) continue;
    const protocol = (p.protocol ?? "tcp").toLowerCase();
    if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") {
      throw invalid(`port mapping ${p.hostPort}:${p.containerPort}: protocol ${JSON.stringify(p.protocol)} is not tcp, udp or sctp`);
    }
    for (const [k, v] of [["hostPort", p.hostPort], ["containerPort", p.containerPort]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 65535) throw invalid(`port mapping: ${k} ${v} is not a port number (1-65535)`);
    }
    const m: PortMapping = { hostPort: p.hostPort, containerPort: p.containerPort, protocol };
    if (p.hostIp) m.hostIP = p.hostIp;
    out.push(m);
  }
  return out;
}

const SUFFIX: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes resource quantity ("10M", "1Gi", "500k", "1e6") as a number, rounded up like Quantity.Value(). */
export function parseQuantity(s: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?)$/.exec(s.trim());
  if (!m) throw invalid(`quantity ${JSON.stringify(s)} is not a Kubernetes quantity (like "10M" or "1Gi")`);
  const base = Number(m[1]);
  const v = m[2] !== undefined ? base * 10 ** Number(m[2].slice(1)) : base * (SUFFIX[m[3] ?? ""] ?? 1);
  return Math.ceil(v);
}

const MIN_BANDWIDTH = 1e3;
const MAX_BANDWIDTH = 1e15;
// containerd and kubelet's kubenet pass a burst of MaxUint32 bits when only a rate is given.
const DEFAULT_BURST = 4294967295;

/** The `bandwidth` capability from `kubernetes.io/{ingress,egress}-bandwidth`, or undefined if neither is set. */
export function bandwidthFromAnnotations(annotations: Readonly<Record<string, string>>): BandwidthCapability | undefined {
  const bw: BandwidthCapability = {};
  for (const dir of ["ingress", "egress"] as const) {
    const key = `kubernetes.io/${dir}-bandwidth`;
    const v = annotations[key];
    if (v === undefined) continue;
    const rate = parseQuantity(v);
    if (rate < MIN_BANDWIDTH) throw invalid(`annotation ${key}=${v}: unreasonably small (< 1k bits/s)`);
    if (rate > MAX_BANDWIDTH) throw invalid(`annotation ${key}=${v}: unreasonably large (> 1P bits/s)`);
    if (dir === "ingress") Object.assign(bw, { ingressRate: rate, ingressBurst: DEFAULT_BURST });
    else Object.assign(bw, { egressRate: rate, egressBurst: DEFAULT_BURST });
  }
  return Object.keys(bw).length ? bw : undefined;
}

export interface CapabilityInput {
  ports?: readonly HostPortSpec[];
  dns?: DnsCapability;
  annotations?: Readonly<Record<string, string>>;
  cgroupPath?: string;
}

/** All capability args for the pod; each plugin later sees only those it declares. */
export function capabilityArgs(input: CapabilityInput): CapabilityArgs {
  const caps: CapabilityArgs = {};
  const pm = portMappings(input.ports ?? []);
  if (pm.length) caps["portMappings"] = pm as unknown as Json;
  if (input.dns && (input.dns.servers?.length || input.dns.searches?.length || input.dns.options?.length)) {
    caps["dns"] = { servers: input.dns.servers ?? [], searches: input.dns.searches ?? [], options: input.dns.options ?? [] };
  }
  const bw = bandwidthFromAnnotations(input.annotations ?? {});
  if (bw) caps["bandwidth"] = bw as unknown as Json;
  if (input.cgroupPath) caps["cgroupPath"] = input.cgroupPath;
  return caps;
}

/**
 * The stdin netconf for one plugin of the chain: the plugin's own fields, the list's name and
 * cniVersion, prevResult, and runtimeConfig holding only the capabilities it declares (libcni).
 */
export function pluginNetconf(
  list: NetConfList,
  plugin: PluginConf,
  caps: CapabilityArgs,
  prevResult: JsonObject | undefined,
): JsonObject {
  const conf: JsonObject = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  const declared = plugin["capabilities"];
  if (declared && typeof declared === "object" && !Array.isArray(declared)) {
    const existing = conf["runtimeConfig"];
    const rt: JsonObject = existing && typeof existing === "object" && !Array.isArray(existing) ? { ...existing } : {};
    let any = false;
    for (const [cap, on] of Object.entries(declared)) {
      const v = caps[cap];
      if (on === true && v !== undefined) {
        rt[cap] = v;
        any = true;
      }
    }
    if (any) conf["runtimeConfig"] = rt;
  }
  if (prevResult) conf["prevResult"] = prevResult;
  else delete conf["prevResult"];
  return conf;
}
