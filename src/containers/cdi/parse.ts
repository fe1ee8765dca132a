// Turns a CDI spec file's text (YAML or JSON: one YAML 1.1 parser reads both, as the reference
// implementation does) into typed data; unknown fields and wrong types are errors naming the field.
import { createRequire } from "node:module";
import { CDI_HOOK_NAMES, emptyEdits, type CdiContainerEdits, type CdiDevice, type CdiDeviceNode, type CdiHook, type CdiHookName, type CdiIntelRdt, type CdiMount, type CdiNetDevice, type CdiRawSpec } from "./types.js";

// The YAML parser (about 70 modules) is loaded on the first spec file read, not with the daemon.
type YamlParse = (src: string, options: { version: "1.1"; maxAliasCount: number; uniqueKeys: boolean }) => unknown;
let yamlParse: YamlParse | undefined;
const parseYaml: YamlParse = (src, options) => (yamlParse ??= (createRequire(import.meta.url)("yaml") as typeof import("yaml")).parse)(src, options);

export class CdiParseError extends Error {
  override name = "CdiParseError";
}

type Obj = Record<string, unknown>;

const fail = (where: string, what: string): never => {
  throw new CdiParseError(`${where}: ${what}`);
};

/**
 * The object's fields under their canonical names. Go's JSON decoding (which the reference
 * implementation uses) matches field names case-insensitively, so "additionalGIDs" is additionalGids.
 */
function fields(v: unknown, where: string, known: readonly string[]): Obj {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return fail(where, "must be an object");
  const out: Obj = {};
  for (const [k, val] of Object.entries(v as Obj)) {
    const canon = known.find((n) => n.toLowerCase() === k.toLowerCase());
    if (canon === undefined) fail(where, `unknown field ${JSON.stringify(k)} (known: ${known.join(", ")})`);
    if (val === null) continue; // JSON null: the field's zero value, as in Go
    out[canon!] = val;
  }
  return out;
}

function str(v: unknown, where: string): string {
  return typeof v === "string" ? v : fail(where, "must be a string");
}

function optStr(v: unknown, where: string): string | undefined {
  return v === undefined ? undefined : str(v, where);
}

function strList(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return fail(where, "must be a list of strings");
  return v.map((s, i) => str(s, `${where}[${i}]`));
}

function int(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) return fail(where, `must be an integer from ${min} to ${max}`);
  return v;
}

function optInt(v: unknown, where: string, min: number, max: number): number | undefined {
  return v === undefined ? undefined : int(v, where, min, max);
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : fail(where, "must be a list");
}

function strMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined) return {};
  if (v === null || typeof v !== "object" || Array.isArray(v)) return fail(where, "must be a map of strings");
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Obj)) out[k] = str(val, `${where}.${k}`);
  return out;
}

const UINT32 = 0xffff_ffff;
const INT64 = Number.MAX_SAFE_INTEGER;

function deviceNode(v: unknown, where: string): CdiDeviceNode {
  const f = fields(v, where, ["path", "hostPath", "type", "major", "minor", "fileMode", "permissions", "uid", "gid"]);
  const n: CdiDeviceNode = { path: str(f["path"] ?? "", `${where}.path`) };
  const hostPath = optStr(f["hostPath"], `${where}.hostPath`);
  const type = optStr(f["type"], `${where}.type`);
  const major = optInt(f["major"], `${where}.major`, -INT64, INT64);
  const minor = optInt(f["minor"], `${where}.minor`, -INT64, INT64);
  const fileMode = optInt(f["fileMode"], `${where}.fileMode`, 0, UINT32);
  const permissions = optStr(f["permissions"], `${where}.permissions`);
  const uid = optInt(f["uid"], `${where}.uid`, 0, UINT32);
  const gid = optInt(f["gid"], `${where}.gid`, 0, UINT32);
  if (hostPath !== undefined && hostPath !== "") n.hostPath = hostPath;
  if (type !== undefined && type !== "") n.type = type;
  if (major !== undefined && major !== 0) n.major = major;
  if (minor !== undefined && minor !== 0) n.minor = minor;
  if (fileMode !== undefined) n.fileMode = fileMode;
  if (permissions !== undefined && permissions !== "") n.permissions = permissions;
  if (uid !== undefined) n.uid = uid;
  if (gid !== undefined) n.gid = gid;
  return n;
}

function mount(v: unknown, where: string): CdiMount {
  const f = fields(v, where, ["hostPath", "containerPath", "options", "type"]);
  const m: CdiMount = { hostPath: str(f["hostPath"] ?? "", `${where}.hostPath`), containerPath: str(f["containerPath"] ?? "", `${where}.containerPath`) };
  if (f["options"] !== undefined) m.options = strList(f["options"], `${where}.options`);
  const type = optStr(f["type"], `${where}.type`);
  if (type !== undefined && type !== "") m.type = type;
  return m;
}

function hook(v: unknown, where: string): CdiHook {
  const f = fields(v, where, ["hookName", "path", "args", "env", "timeout"]);
  const name = str(f["hookName"] ?? "", `${where}.hookName`);
  if (!(CDI_HOOK_NAMES as readonly string[]).includes(name)) fail(`${where}.hookName`, `${JSON.stringify(name)} is not one of ${CDI_HOOK_NAMES.join(", ")}`);
  const h: CdiHook = { hookName: name as CdiHookName, path: str(f["path"] ?? "", `${where}.path`) };
  if (f["args"] !== undefined) h.args = strList(f["args"], `${where}.args`);
  if (f["env"] !== undefined) h.env = strList(f["env"], `${where}.env`);
  const timeout = optInt(f["timeout"], `${where}.timeout`, -INT64, INT64);
  if (timeout !== undefined) h.timeout = timeout;
  return h;
}

function intelRdt(v: unknown, where: string): CdiIntelRdt {
  const f = fields(v, where, ["closID", "l3CacheSchema", "memBwSchema", "schemata", "enableMonitoring"]);
  const r: CdiIntelRdt = {};
  for (const k of ["closID", "l3CacheSchema", "memBwSchema"] as const) {
    const s = optStr(f[k], `${where}.${k}`);
    if (s !== undefined) r[k] = s;
  }
  if (f["schemata"] !== undefined) r.schemata = strList(f["schemata"], `${where}.schemata`);
  if (f["enableMonitoring"] !== undefined) {
    if (typeof f["enableMonitoring"] !== "boolean") fail(`${where}.enableMonitoring`, "must be true or false");
    r.enableMonitoring = f["enableMonitoring"] as boolean;
  }
  return r;
}

function netDevice(v: unknown, where: string): CdiNetDevice {
  const f = fields(v, where, ["hostInterfaceName", "name"]);
  return { hostInterfaceName: str(f["hostInterfaceName"] ?? "", `${where}.hostInterfaceName`), name: str(f["name"] ?? "", `${where}.name`) };
}

export function parseEdits(v: unknown, where: string): CdiContainerEdits {
  if (v === undefined) return emptyEdits();
  const f = fields(v, where, ["env", "deviceNodes", "netDevices", "hooks", "mounts", "intelRdt", "additionalGids"]);
  const e: CdiContainerEdits = {
    env: strList(f["env"], `${where}.env`),
    deviceNodes: list(f["deviceNodes"], `${where}.deviceNodes`).map((d, i) => deviceNode(d, `${where}.deviceNodes[${i}]`)),
    netDevices: list(f["netDevices"], `${where}.netDevices`).map((d, i) => netDevice(d, `${where}.netDevices[${i}]`)),
    hooks: list(f["hooks"], `${where}.hooks`).map((h, i) => hook(h, `${where}.hooks[${i}]`)),
    mounts: list(f["mounts"], `${where}.mounts`).map((m, i) => mount(m, `${where}.mounts[${i}]`)),
    additionalGids: list(f["additionalGids"], `${where}.additionalGids`).map((g, i) => int(g, `${where}.additionalGids[${i}]`, 0, UINT32)),
  };
  if (f["intelRdt"] !== undefined) e.intelRdt = intelRdt(f["intelRdt"], `${where}.intelRdt`);
  return e;
}

function device(v: unknown, where: string): CdiDevice {
  const f = fields(v, where, ["name", "annotations", "containerEdits"]);
  return { name: str(f["name"] ?? "", `${where}.name`), annotations: strMap(f["annotations"], `${where}.annotations`), containerEdits: parseEdits(f["containerEdits"], `${where}.containerEdits`) };
}

/** Parses one spec file's text; throws CdiParseError naming the field that is wrong. */
export function parseCdiSpec(text: string): CdiRawSpec {
  let doc: unknown;
  try {
    // YAML 1.1, as Go's yaml reads CDI files (0644 is octal); aliases capped against a "billion laughs" file.
    doc = parseYaml(text, { version: "1.1", maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    throw new CdiParseError(`not valid YAML or JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  if (doc === undefined || doc === null) throw new CdiParseError("the file holds no CDI spec");
  const f = fields(doc, "spec", ["cdiVersion", "kind", "annotations", "devices", "containerEdits"]);
  return {
    cdiVersion: str(f["cdiVersion"] ?? "", "cdiVersion"),
    kind: str(f["kind"] ?? "", "kind"),
    annotations: strMap(f["annotations"], "annotations"),
    devices: list(f["devices"], "devices").map((d, i) => device(d, `devices[${i}]`)),
    containerEdits: parseEdits(f["containerEdits"], "containerEdits"),
  };
}
