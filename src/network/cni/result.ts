// Reads pod IPs out of a CNI result of any version Debian's plugins may print (1.0.0,
// 0.3.x/0.4.0 with `ips`, 0.1/0.2 with `ip4`/`ip6`): primary is the first IPv4, else the first.
import { isIP } from "node:net";
import { isJsonObject, type CniResult, type Json } from "./types.js";

export interface PodIps {
  /** Empty when the network gave the pod no address. */
  primary: string;
  additional: string[];
}

function addressOf(cidr: Json | undefined): string | undefined {
  if (typeof cidr !== "string") return undefined;
  const ip = cidr.split("/")[0] ?? "";
  return isIP(ip) ? ip : undefined;
}

/** All addresses assigned inside the sandbox (on `ifName` when the result says where). */
export function resultAddresses(result: CniResult, ifName = "eth0"): string[] {
  const out: string[] = [];
  const ips = result["ips"];
  if (Array.isArray(ips)) {
    const ifaces = Array.isArray(result["interfaces"]) ? result["interfaces"] : [];
    for (const entry of ips) {
      if (!isJsonObject(entry)) continue;
      const idx = entry["interface"];
      if (typeof idx === "number") {
        const iface = ifaces[idx];
        // Host-side interfaces (the bridge, the host veth) have no sandbox.
        if (isJsonObject(iface) && (!iface["sandbox"] || (iface["name"] !== undefined && iface["name"] !== ifName))) continue;
      }
      const a = addressOf(entry["address"]);
      if (a) out.push(a);
    }
  } else {
    for (const key of ["ip4", "ip6"]) {
      const v = result[key];
      const a = isJsonObject(v) ? addressOf(v["ip"]) : undefined;
      if (a) out.push(a);
    }
  }
  return [...new Set(out)];
}

export function podIps(result: CniResult | undefined, ifName = "eth0"): PodIps {
  const all = result ? resultAddresses(result, ifName) : [];
  const primary = all.find((a) => isIP(a) === 4) ?? all[0] ?? "";
  return { primary, additional: all.filter((a) => a !== primary) };
}
