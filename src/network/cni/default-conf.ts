// The network Berth installs when the host has none: a bridge with host-local IPAM and
// portmap for hostPorts. No masquerade and no hairpin: pods reach each other and the host only.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.js";
import { listConfigFiles } from "./config.js";
import type { JsonObject, NetConfList } from "./types.js";

export const DEFAULT_CONF_NAME = "10-berth.conflist";

export interface DefaultConfOptions {
  name?: string;
  bridge?: string;
  subnet?: string;
  /** host-local's lease dir; its own default is /var/lib/cni/networks. */
  ipamDataDir?: string;
}

export function defaultConflist(o: DefaultConfOptions = {}): NetConfList {
  const ipam: JsonObject = {
    type: "host-local",
    ranges: [[{ subnet: o.subnet ?? "10.88.0.0/16" }]],
    routes: [{ dst: "0.0.0.0/0" }],
  };
  if (o.ipamDataDir) ipam["dataDir"] = o.ipamDataDir;
  return {
    cniVersion: "1.0.0",
    name: o.name ?? "berth",
    disableCheck: false,
    plugins: [
      {
        type: "bridge",
        bridge: o.bridge ?? "berth0",
        isGateway: true,
        // Off on purpose: masquerade would let pods send traffic off the host, and Debian's
        // bridge plugin refuses hairpin together with promiscuous mode.
        ipMasq: false,
        hairpinMode: false,
        ipam,
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  };
}

/** Writes the default conflist into `confDir` unless it already holds a config file; returns the path written, if any. */
export async function writeDefaultConflist(confDir: string, o: DefaultConfOptions = {}): Promise<string | undefined> {
  if ((await listConfigFiles(confDir)).length > 0) return undefined;
  await mkdir(confDir, { recursive: true, mode: 0o755 });
  const path = join(confDir, DEFAULT_CONF_NAME);
  const { disableCheck: _d, ...list } = defaultConflist(o);
  await writeFileAtomic(path, `${JSON.stringify(list, null, 2)}\n`);
  return path;
}
