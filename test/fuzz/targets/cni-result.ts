// Fuzz target: what a CNI plugin prints (src/network/cni): the ADD result and the error JSON of
// a failed plugin, then the pod IPs read from the result and the /etc/hosts written from them.
import { isIP } from "node:net";
import { parseResult, pluginError } from "../../../src/network/cni/exec.js";
import { podIps } from "../../../src/network/cni/result.js";
import { CniPluginError } from "../../../src/network/cni/types.js";
import { hostsContent } from "../../../src/pods/files.js";
import { holds, parseOrRefuse, split } from "../check.js";

export function fuzz(data: Buffer): void {
  const { sel, rest } = split(data);
  const stdout = rest.toString("utf8");
  if (sel & 1) {
    const e = pluginError("bridge", "CNI plugin bridge ADD", sel >> 1, stdout, "");
    holds(e instanceof CniPluginError && e.message.length > 0, "pluginError gave no CniPluginError");
    return;
  }
  const result = parseOrRefuse(() => parseResult("bridge", "CNI plugin bridge ADD", stdout, ""), [CniPluginError]);
  if (!result) return;
  const ips = podIps(result, "eth0");
  holds(ips.primary === "" || isIP(ips.primary) !== 0, `primary IP ${JSON.stringify(ips.primary)}`);
  holds(ips.additional.every((a) => isIP(a) !== 0 && a !== ips.primary), `additional IPs ${JSON.stringify(ips.additional)}`);
  holds(new Set(ips.additional).size === ips.additional.length, "duplicate pod IPs");
  const all = ips.primary ? [ips.primary, ...ips.additional] : [];
  const hosts = hostsContent({ hostname: "pod", podIps: all });
  holds(hosts.split("\n").length === 8 + all.length, "a pod IP added lines of its own to /etc/hosts");
}
