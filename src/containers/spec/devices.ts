// Device nodes and device-cgroup rules: deny everything, then allow the CRI devices (looked
// up by the caller) and, for privileged containers, every host device.
import { invalid } from "../../errors.js";
import type { Device } from "../../generated/runtime/v1/api.js";
import { cleanAbs } from "./clean-path.js";
import type { DeviceLookup, HostDevice } from "./input.js";
import type { OciDevice, OciDeviceCgroup } from "./oci-types.js";

export interface DeviceInput {
  criDevices: readonly Device[];
  privileged: boolean;
  hostDevices: readonly HostDevice[];
  lookup: DeviceLookup;
  /** Owner for the nodes (device_ownership_from_security_context); absent keeps the host's. */
  owner?: { uid: number; gid: number };
}

export interface DevicePlan {
  devices: OciDevice[];
  cgroup: OciDeviceCgroup[];
}

function node(d: HostDevice, path: string, owner: DeviceInput["owner"]): OciDevice {
  return {
    type: d.type,
    path,
    major: d.major,
    minor: d.minor,
    fileMode: d.fileMode & 0o7777,
    uid: owner?.uid ?? d.uid,
    gid: owner?.gid ?? d.gid,
  };
}

function rule(d: HostDevice, access: string): OciDeviceCgroup | undefined {
  if (d.type === "p") return undefined; // FIFOs are not under the device cgroup
  return { allow: true, type: d.type === "b" ? "b" : "c", major: d.major, minor: d.minor, access };
}

function permissions(p: string, field: string): string {
  if (p === "") return "rwm";
  if (!/^[rwm]{1,3}$/.test(p) || new Set(p).size !== p.length) throw invalid(`${field} ${JSON.stringify(p)} must be made of r, w and m`);
  return p;
}

export function buildDevices(input: DeviceInput): DevicePlan {
  const byPath = new Map<string, OciDevice>();
  const cgroup: OciDeviceCgroup[] = [{ allow: false, access: "rwm" }];
  if (input.privileged) {
    for (const d of input.hostDevices) byPath.set(d.path, node(d, d.path, input.owner));
    cgroup.push({ allow: true, access: "rwm" });
  }
  input.criDevices.forEach((dev, i) => {
    const field = `devices[${i}]`;
    const hostPath = cleanAbs(dev.hostPath, `${field}.host_path`);
    const ctrPath = dev.containerPath === "" ? hostPath : cleanAbs(dev.containerPath, `${field}.container_path`);
    const access = permissions(dev.permissions, `${field}.permissions`);
    const found = input.lookup(hostPath);
    if (!found || found.length === 0) throw invalid(`${field}.host_path ${JSON.stringify(hostPath)}: no such device on the host`);
    for (const d of found) {
      // A directory (e.g. /dev/snd) maps each node below it to the same place under container_path.
      const rel = d.path === hostPath ? "" : d.path.startsWith(`${hostPath}/`) ? d.path.slice(hostPath.length) : undefined;
      if (rel === undefined) throw invalid(`${field}: device lookup for ${hostPath} returned ${d.path}, which is not under it`);
      const path = ctrPath + rel;
      byPath.set(path, node(d, path, input.owner));
      const r = rule(d, access);
      if (r && !input.privileged) cgroup.push(r);
    }
  });
  return { devices: [...byPath.values()], cgroup };
}
