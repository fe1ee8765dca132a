// The CDI spec versions a file may declare and the lowest one its content needs (fields added
// in 0.4.0 … 1.1.0), as the CDI reference implementation checks them.
import type { CdiContainerEdits, CdiRawSpec } from "./types.js";

/** Newest first. 0.1.0 and 0.2.0 are accepted as the reference implementation does. */
export const CDI_VERSIONS = ["1.1.0", "1.0.0", "0.8.0", "0.7.0", "0.6.0", "0.5.0", "0.4.0", "0.3.0", "0.2.0", "0.1.0"] as const;
const EARLIEST = "0.3.0";

function allEdits(spec: CdiRawSpec): CdiContainerEdits[] {
  return [spec.containerEdits, ...spec.devices.map((d) => d.containerEdits)];
}

/** The lowest version whose fields cover what the spec uses. */
export function requiredVersion(spec: CdiRawSpec): string {
  const edits = allEdits(spec);
  if (edits.some((e) => e.netDevices.length > 0 || (e.intelRdt && (e.intelRdt.schemata !== undefined || e.intelRdt.enableMonitoring)))) return "1.1.0";
  if (edits.some((e) => e.intelRdt !== undefined || e.additionalGids.length > 0)) return "0.7.0";
  const cls = spec.kind.split("/").slice(1).join("/");
  if (Object.keys(spec.annotations).length > 0 || spec.devices.some((d) => Object.keys(d.annotations).length > 0) || cls.includes(".")) return "0.6.0";
  if (spec.devices.some((d) => /^[0-9]/.test(d.name)) || edits.some((e) => e.deviceNodes.some((n) => n.hostPath !== undefined && n.hostPath !== ""))) return "0.5.0";
  if (edits.some((e) => e.mounts.some((m) => m.type !== undefined && m.type !== ""))) return "0.4.0";
  return EARLIEST;
}

/** A reason the declared version is unknown or too low for the content; undefined when it is fine. */
export function versionProblem(spec: CdiRawSpec): string | undefined {
  const declared = spec.cdiVersion.replace(/^v/, "");
  const at = CDI_VERSIONS.indexOf(declared as (typeof CDI_VERSIONS)[number]);
  if (at < 0) return `cdiVersion ${JSON.stringify(spec.cdiVersion)} is not a CDI version Berth knows (${CDI_VERSIONS.join(", ")})`;
  const min = requiredVersion(spec);
  if (CDI_VERSIONS.indexOf(min as (typeof CDI_VERSIONS)[number]) < at) return `cdiVersion ${spec.cdiVersion} is too low for the fields used: they need at least ${min}`;
  return undefined;
}
