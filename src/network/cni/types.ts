// Shapes of CNI network configuration and results (spec 1.0.0, with the older result forms
// Debian's 1.1.1 plugins can still emit), plus the error type a failing plugin becomes.
import { BerthError, Code } from "../../errors.js";

/** A JSON value as parsed; plugin configs carry arbitrary plugin-specific fields. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** One plugin entry of a conflist: `type` plus whatever the plugin reads. */
export interface PluginConf extends JsonObject {
  type: string;
}

/** A validated network configuration list (a `.conf` is wrapped into one of these). */
export interface NetConfList {
  cniVersion: string;
  name: string;
  disableCheck: boolean;
  plugins: PluginConf[];
}

/** Where a config came from, so errors and caches can name it. */
export interface LoadedNetwork {
  list: NetConfList;
  file: string;
}

export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION";

/** A host port mapping in the form the `portmap` plugin's `portMappings` capability takes. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp" | "sctp";
  hostIP?: string;
}

export interface DnsCapability {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

/** The `bandwidth` capability, rates in bits per second, bursts in bits. */
export interface BandwidthCapability {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

/** Runtime-supplied values, injected into `runtimeConfig` only for plugins that declare them. */
export type CapabilityArgs = { [capability: string]: Json };

/** Result interface/ip entries as in CNI 1.0.0; `version` appears in 0.3.x/0.4.0 results. */
export interface ResultInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}
export interface ResultIp {
  address: string;
  gateway?: string;
  interface?: number;
  version?: string;
}
export interface CniResult extends JsonObject {
  cniVersion: string;
}

/** A plugin's own failure, carrying the CNI error code and the plugin's message. */
export class CniPluginError extends BerthError {
  readonly cniCode: number | undefined;
  readonly plugin: string;
  constructor(plugin: string, message: string, cniCode: number | undefined, grpcCode: Code = Code.INTERNAL) {
    super(grpcCode, message);
    this.name = "CniPluginError";
    this.plugin = plugin;
    this.cniCode = cniCode;
  }
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
