// Until the CNI driver is wired in, NetworkReady follows whether the conf dir holds any
// network config file; re-read on each Status, so adding one needs no restart.
import { readdirSync } from "node:fs";
import type { NetworkProbe } from "../runtime/info.js";

export function confDirProbe(confDir: string): NetworkProbe {
  return {
    networkReady() {
      let files: string[] = [];
      try {
        files = readdirSync(confDir).filter((f) => /\.(conflist|conf|json)$/.test(f));
      } catch {
        // a missing dir is the same as an empty one
      }
      return files.length
        ? { ready: true, reason: "", message: "" }
        : { ready: false, reason: "NetworkPluginNotReady", message: `no CNI network config in ${confDir}` };
    },
  };
}
