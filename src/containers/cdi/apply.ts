// Applies resolved CDI edits to a built OCI spec, in the CDI reference order: env, device nodes
// (with their cgroup rules), mounts (re-sorted parents first), hooks, additional GIDs. Pure.
import { failedPrecondition } from "../../errors.js";
import type { DeviceLookup } from "../spec/input.js";
import type { OciDevice, OciDeviceType, OciHook, OciMount, OciSpec } from "../spec/oci-types.js";
import type { CdiDeviceNode, CdiInjection } from "./types.js";

const depth = (dest: string) => dest.split("/").filter(Boolean).length;

/** The OCI device for a CDI node, type/major/minor/fileMode filled from the host node as the reference does. */
function ociDevice(n: CdiDeviceNode, lookup: DeviceLookup, source: string): OciDevice {
  const hostPath = n.hostPath ?? n.path;
  const minimal = n.type !== undefined && (n.major !== undefined || n.type === "p");
  const host = lookup(hostPath)?.find((d) => d.path === hostPath);
  let type = n.type;
  let major = n.major ?? 0;
  let minor = n.minor ?? 0;
  let fileMode = n.fileMode;
  if (!host) {
    if (!minimal) throw failedPrecondition(`${source}: device node ${hostPath} for ${n.path} does not exist on this node or is not a device node (and the spec does not give its type and major number)`);
  } else {
    fileMode ??= host.fileMode & 0o7777;
    if (!minimal) {
      type ??= host.type;
      if (type !== host.type) throw failedPrecondition(`${source}: device ${n.path} is type "${type}" in the spec but ${hostPath} on the host is type "${host.type}"`);
      if (type !== "p" && major === 0) {
        major = host.major;
        minor = host.minor;
      }
    }
  }
  const dev: OciDevice = { type: type as OciDeviceType, path: n.path };
  if (type !== "p") {
    dev.major = major;
    dev.minor = minor;
  }
  if (fileMode !== undefined) dev.fileMode = fileMode;
  if (n.uid !== undefined) dev.uid = n.uid;
  if (n.gid !== undefined) dev.gid = n.gid;
  return dev;
}

/** "" is rwm, "none" is no rule; repeated letters folded into one. */
function access(p: string | undefined): string | undefined {
  if (p === undefined || p === "") return "rwm";
  if (p === "none") return undefined;
  return ["r", "w", "m"].filter((c) => p.includes(c)).join("");
}

function toHook(h: { path: string; args?: string[]; env?: string[]; timeout?: number }): OciHook {
  const o: OciHook = { path: h.path };
  if (h.args) o.args = [...h.args];
  if (h.env) o.env = [...h.env];
  if (h.timeout !== undefined) o.timeout = h.timeout;
  return o;
}

export function applyCdiEdits(spec: OciSpec, inj: CdiInjection, lookup: DeviceLookup): void {
  const parts = inj.parts;
  const proc = spec.process;
  if (!proc) throw failedPrecondition("CDI edits need the spec's process");

  // Env: a name already set is replaced where it stands; a new one is appended.
  const env = (proc.env ??= []);
  const at = new Map(env.map((e, i) => [e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("=")), i]));
  for (const { edits } of parts) {
    for (const e of edits.env) {
      const name = e.slice(0, e.indexOf("="));
      const i = at.get(name);
      if (i !== undefined) env[i] = e;
      else at.set(name, env.push(e) - 1);
    }
  }

  const linux = (spec.linux ??= {});
  for (const { source, edits } of parts) {
    for (const n of edits.deviceNodes) {
      const dev = ociDevice(n, lookup, source);
      if (dev.uid === undefined && proc.user.uid > 0) dev.uid = proc.user.uid;
      if (dev.gid === undefined && proc.user.gid > 0) dev.gid = proc.user.gid;
      const devices = (linux.devices ??= []);
      const same = devices.findIndex((d) => d.path === dev.path);
      if (same >= 0) devices[same] = dev;
      else devices.push(dev);
      const a = access(n.permissions);
      if ((dev.type === "b" || dev.type === "c") && a !== undefined) {
        const res = (linux.resources ??= {});
        (res.devices ??= []).push({ allow: true, type: dev.type, major: dev.major!, minor: dev.minor!, access: a });
      }
    }
  }

  const cdiMounts = parts.flatMap((p) => p.edits.mounts);
  if (cdiMounts.length) {
    let mounts = spec.mounts ?? [];
    for (const m of cdiMounts) {
      mounts = mounts.filter((x) => x.destination !== m.containerPath);
      const o: OciMount = { destination: m.containerPath, source: m.hostPath };
      if (m.type !== undefined) o.type = m.type;
      if (m.options !== undefined) o.options = [...m.options];
      mounts.push(o);
    }
    // Stable: mounts at one depth keep their order.
    spec.mounts = mounts.sort((a, b) => depth(a.destination) - depth(b.destination));
  }

  for (const { edits } of parts) {
    for (const h of edits.hooks) {
      const hooks = (spec.hooks ??= {});
      (hooks[h.hookName] ??= []).push(toHook(h));
    }
  }

  for (const { edits } of parts) {
    for (const g of edits.additionalGids) {
      if (g === 0) continue;
      const gids = (proc.user.additionalGids ??= []);
      if (!gids.includes(g)) gids.push(g);
    }
  }
}
