// Checks a parsed CDI spec as the CDI spec and its reference implementation require: version,
// kind, device names (unique in the file), non-empty device edits and each edit's fields.
import { classProblem, deviceNameProblem, parseKind, vendorProblem } from "./names.js";
import { CdiParseError } from "./parse.js";
import type { CdiContainerEdits, CdiRawSpec, CdiSpec } from "./types.js";
import { versionProblem } from "./version.js";

const MAX_ANNOTATION_BYTES = 256 * 1024;

function envProblem(env: readonly string[], where: string): string | undefined {
  const bad = env.findIndex((v) => v.indexOf("=") <= 0);
  return bad < 0 ? undefined : `${where}[${bad}] ${JSON.stringify(env[bad])} is not NAME=VALUE`;
}

function annotationsProblem(a: Readonly<Record<string, string>>, where: string): string | undefined {
  let size = 0;
  for (const [k, v] of Object.entries(a)) {
    if (!/^([A-Za-z0-9][-A-Za-z0-9_.]*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k) || k.length > 316) return `${where}: key ${JSON.stringify(k)} is not a valid annotation key`;
    size += k.length + v.length;
  }
  return size > MAX_ANNOTATION_BYTES ? `${where}: ${size} bytes; at most ${MAX_ANNOTATION_BYTES} are allowed` : undefined;
}

/** A reason the edits are invalid (naming the field), or undefined. */
export function editsProblem(e: CdiContainerEdits, where: string): string | undefined {
  const envP = envProblem(e.env, `${where}.env`);
  if (envP) return envP;
  for (const [i, d] of e.deviceNodes.entries()) {
    const w = `${where}.deviceNodes[${i}]`;
    if (d.path === "") return `${w}.path is empty`;
    if (!d.path.startsWith("/")) return `${w}.path ${JSON.stringify(d.path)} is not absolute`;
    if (d.hostPath !== undefined && !d.hostPath.startsWith("/")) return `${w}.hostPath ${JSON.stringify(d.hostPath)} is not absolute`;
    if (d.type !== undefined && !["b", "c", "u", "p"].includes(d.type)) return `${w}.type ${JSON.stringify(d.type)} is not b, c, u or p`;
    if (d.permissions !== undefined && d.permissions !== "none" && !/^[rwm]+$/.test(d.permissions)) return `${w}.permissions ${JSON.stringify(d.permissions)} must be made of r, w and m (or "none")`;
  }
  for (const [i, h] of e.hooks.entries()) {
    const w = `${where}.hooks[${i}]`;
    if (!h.path.startsWith("/")) return `${w}.path ${JSON.stringify(h.path)} must be an absolute path`;
    const p = envProblem(h.env ?? [], `${w}.env`);
    if (p) return p;
    if (h.timeout !== undefined && h.timeout <= 0) return `${w}.timeout must be greater than zero`;
  }
  for (const [i, m] of e.mounts.entries()) {
    const w = `${where}.mounts[${i}]`;
    if (m.hostPath === "") return `${w}.hostPath is empty`;
    if (m.containerPath === "") return `${w}.containerPath is empty`;
    if (!m.containerPath.startsWith("/")) return `${w}.containerPath ${JSON.stringify(m.containerPath)} is not absolute`;
  }
  const clos = e.intelRdt?.closID;
  if (clos !== undefined && clos !== "/" && (clos.length >= 4096 || clos === "." || clos === ".." || /[/\n]/.test(clos))) return `${where}.intelRdt.closID ${JSON.stringify(clos)} is not a valid CLOS name`;
  const hosts = new Set<string>();
  const names = new Set<string>();
  for (const [i, n] of e.netDevices.entries()) {
    const w = `${where}.netDevices[${i}]`;
    if (n.hostInterfaceName === "" || n.name === "") return `${w}: hostInterfaceName and name must not be empty`;
    if (hosts.has(n.hostInterfaceName)) return `${w}: host interface ${JSON.stringify(n.hostInterfaceName)} is listed twice`;
    if (names.has(n.name)) return `${w}: name ${JSON.stringify(n.name)} is listed twice`;
    hosts.add(n.hostInterfaceName);
    names.add(n.name);
  }
  return undefined;
}

function isEmpty(e: CdiContainerEdits): boolean {
  return e.env.length + e.deviceNodes.length + e.hooks.length + e.mounts.length + e.additionalGids.length + e.netDevices.length === 0 && e.intelRdt === undefined;
}

/** The spec with its vendor and class, or a CdiParseError saying what is wrong. */
export function validateCdiSpec(raw: CdiRawSpec, path: string, priority: number): CdiSpec {
  const bad = (msg: string): never => {
    throw new CdiParseError(msg);
  };
  const vp = versionProblem(raw);
  if (vp) bad(vp);
  const [vendor, cls] = parseKind(raw.kind);
  if (vendor === "") bad(`kind ${JSON.stringify(raw.kind)} is not vendor/class (e.g. vendor.com/gpu)`);
  const kp = vendorProblem(vendor) ?? classProblem(cls);
  if (kp) bad(`kind ${JSON.stringify(raw.kind)}: ${kp}`);
  const ap = annotationsProblem(raw.annotations, "annotations");
  if (ap) bad(ap);
  const ep = editsProblem(raw.containerEdits, "containerEdits");
  if (ep) bad(ep);
  if (raw.devices.length === 0) bad("devices: a spec must define at least one device");
  const seen = new Set<string>();
  for (const [i, d] of raw.devices.entries()) {
    const w = `devices[${i}]`;
    const np = deviceNameProblem(d.name);
    if (np) bad(`${w}: ${np}`);
    if (seen.has(d.name)) bad(`${w}: device ${JSON.stringify(d.name)} is defined twice in this spec`);
    seen.add(d.name);
    const dap = annotationsProblem(d.annotations, `${w}.annotations`);
    if (dap) bad(dap);
    if (isEmpty(d.containerEdits)) bad(`${w} (${JSON.stringify(d.name)}): containerEdits is empty; a device must edit the container`);
    const dep = editsProblem(d.containerEdits, `${w}.containerEdits`);
    if (dep) bad(dep);
  }
  return { ...raw, path, priority, vendor, class: cls };
}
