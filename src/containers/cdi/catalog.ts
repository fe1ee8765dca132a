// Which spec defines each qualified device name (a later spec directory overrides an earlier one;
// two definitions in one directory cancel each other), and the edits a request resolves to. Pure.
import { failedPrecondition, invalid } from "../../errors.js";
import { parseQualifiedName } from "./names.js";
import type { CdiDevice, CdiInjection, CdiSpec } from "./types.js";

export interface CdiCatalog {
  devices: Map<string, { spec: CdiSpec; device: CdiDevice }>;
  /** Qualified names defined twice at the same priority → the files that define them. */
  conflicts: Map<string, string[]>;
  /** Spec files that failed to load → why. */
  errors: Map<string, string>;
  /** The directories searched, in priority order. */
  dirs: readonly string[];
}

/** Specs in scan order (directory priority, then file name). */
export function buildCatalog(specs: readonly CdiSpec[], errors: Map<string, string>, dirs: readonly string[]): CdiCatalog {
  const devices: CdiCatalog["devices"] = new Map();
  const conflicts: CdiCatalog["conflicts"] = new Map();
  for (const spec of specs) {
    for (const device of spec.devices) {
      const q = `${spec.vendor}/${spec.class}=${device.name}`;
      const old = devices.get(q);
      if (old && old.spec.priority === spec.priority) {
        conflicts.set(q, [...(conflicts.get(q) ?? [old.spec.path]), spec.path]);
        continue;
      }
      if (old && old.spec.priority > spec.priority) continue;
      devices.set(q, { spec, device });
    }
  }
  for (const q of conflicts.keys()) devices.delete(q);
  return { devices, conflicts, errors, dirs };
}

function notFound(cat: CdiCatalog, missing: readonly { name: string; from: string }[]): Error {
  const lines = missing.map(({ name, from }) => {
    const c = cat.conflicts.get(name);
    return c ? `"${name}" (${from}) is defined more than once in one directory (${c.join(", ")}), so it is not used` : `"${name}" (${from})`;
  });
  const dirs = cat.dirs.length ? cat.dirs.join(", ") : "(no directories configured)";
  let msg = `CDI device${missing.length > 1 ? "s" : ""} ${lines.join(", ")} not found in the CDI specs in ${dirs} (config key cdi.spec_dirs)`;
  const kinds = new Set(missing.map(({ name }) => name.split("=")[0]));
  const known = [...cat.devices.keys()].filter((q) => kinds.has(q.split("=")[0])).sort();
  if (known.length) msg += `; that kind defines ${known.slice(0, 16).join(", ")}${known.length > 16 ? ", …" : ""}`;
  if (cat.errors.size) msg += `; spec files that failed to load: ${[...cat.errors].map(([p, e]) => `${p}: ${e}`).join("; ")}`;
  return invalid(msg);
}

/**
 * The edits for the requested devices: for each device in order, its spec's container-level
 * edits (once per spec, before its first device) and then its own. InvalidArgument for a name
 * that is not fully qualified or not defined; FailedPrecondition for edits Berth cannot apply.
 */
export function resolveDevices(cat: CdiCatalog, requested: readonly { name: string; from: string }[]): CdiInjection {
  for (const { name, from } of requested) {
    const q = parseQualifiedName(name);
    if (typeof q === "string") throw invalid(`${from}: ${q}`);
  }
  const missing = requested.filter(({ name }) => !cat.devices.has(name));
  if (missing.length) throw notFound(cat, missing);
  const out: CdiInjection = { devices: requested.map((r) => r.name), parts: [] };
  const specsSeen = new Set<CdiSpec>();
  for (const { name } of requested) {
    const { spec, device } = cat.devices.get(name)!;
    if (!specsSeen.has(spec)) {
      specsSeen.add(spec);
      out.parts.push({ source: `CDI spec ${spec.path} (kind ${spec.kind})`, edits: spec.containerEdits });
    }
    out.parts.push({ source: `CDI device "${name}" (${spec.path})`, edits: device.containerEdits });
  }
  for (const { source, edits } of out.parts) {
    if (edits.intelRdt) throw failedPrecondition(`${source}: intelRdt edits are not supported by Berth (its runc takes no resctrl settings from CDI); remove them from the spec or use another device`);
    if (edits.netDevices.length) throw failedPrecondition(`${source}: netDevices edits need an OCI runtime with linux.netDevices (runc 1.3 or later); this node's Berth does not apply them`);
  }
  return out;
}
