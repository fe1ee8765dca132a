// Checks a config.json against what runc 1.1.5 accepts (types, names, values it validates),
// so a test of the spec builder fails with a readable list instead of runc's terse error.
import { ALL_CAPABILITIES } from "../../../../src/containers/spec/capabilities.js";
import { OCI_NAMESPACE_TYPES, SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_OPERATORS } from "../../../../src/containers/spec/oci-types.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isUint = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isInt = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

const PROPAGATIONS = ["private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"];
const CAPS = new Set(ALL_CAPABILITIES);

/** Problems found, each as "field: what is wrong"; empty when runc should accept the spec. */
export function runcSpecProblems(spec: unknown): string[] {
  const p: string[] = [];
  const bad = (field: string, what: string): void => void p.push(`${field}: ${what}`);
  if (!isObj(spec)) return ["spec: must be an object"];
  if (typeof spec.ociVersion !== "string" || !/^1\.0\.\d/.test(spec.ociVersion)) bad("ociVersion", "must be a 1.0.x version");

  const root = spec.root;
  if (!isObj(root) || typeof root.path !== "string" || root.path === "") bad("root.path", "is required");
  else if (root.readonly !== undefined && typeof root.readonly !== "boolean") bad("root.readonly", "must be a boolean");

  const proc = spec.process;
  if (!isObj(proc)) bad("process", "is required");
  else {
    if (!isStrings(proc.args) || proc.args.length === 0) bad("process.args", "must be a non-empty list of strings");
    if (typeof proc.cwd !== "string" || !proc.cwd.startsWith("/")) bad("process.cwd", "must be an absolute path");
    if (proc.env !== undefined && !isStrings(proc.env)) bad("process.env", "must be a list of strings");
    if (proc.terminal !== undefined && typeof proc.terminal !== "boolean") bad("process.terminal", "must be a boolean");
    const u = proc.user;
    if (!isObj(u) || !isUint(u.uid) || !isUint(u.gid)) bad("process.user", "needs integer uid and gid");
    else if (u.additionalGids !== undefined && !(Array.isArray(u.additionalGids) && u.additionalGids.every(isUint))) bad("process.user.additionalGids", "must be a list of integers");
    if (proc.capabilities !== undefined) {
      if (!isObj(proc.capabilities)) bad("process.capabilities", "must be an object");
      else
        for (const [set, list] of Object.entries(proc.capabilities)) {
          if (!["bounding", "effective", "inheritable", "permitted", "ambient"].includes(set)) bad(`process.capabilities.${set}`, "is not a capability set");
          else if (!isStrings(list)) bad(`process.capabilities.${set}`, "must be a list of strings");
          else {
            for (const c of list) if (!CAPS.has(c)) bad(`process.capabilities.${set}`, `unknown capability ${c}`);
          }
        }
    }
    if (proc.oomScoreAdj !== undefined && !(isInt(proc.oomScoreAdj) && (proc.oomScoreAdj as number) >= -1000 && (proc.oomScoreAdj as number) <= 1000)) bad("process.oomScoreAdj", "must be from -1000 to 1000");
    if (proc.noNewPrivileges !== undefined && typeof proc.noNewPrivileges !== "boolean") bad("process.noNewPrivileges", "must be a boolean");
    if (proc.apparmorProfile !== undefined && typeof proc.apparmorProfile !== "string") bad("process.apparmorProfile", "must be a string");
  }

  if (spec.mounts !== undefined) {
    if (!Array.isArray(spec.mounts)) bad("mounts", "must be a list");
    else
      spec.mounts.forEach((m: unknown, i) => {
        if (!isObj(m) || typeof m.destination !== "string" || !m.destination.startsWith("/")) bad(`mounts[${i}].destination`, "must be an absolute path");
        else {
          if (m.options !== undefined && !isStrings(m.options)) bad(`mounts[${i}].options`, "must be a list of strings");
          if (m.type === "bind" && (typeof m.source !== "string" || !m.source.startsWith("/"))) bad(`mounts[${i}].source`, "a bind mount needs an absolute source");
        }
      });
  }
  if (spec.annotations !== undefined && !(isObj(spec.annotations) && Object.values(spec.annotations).every((v) => typeof v === "string"))) bad("annotations", "must map strings to strings");

  const linux = spec.linux;
  if (!isObj(linux)) {
    bad("linux", "is required on Linux");
    return p;
  }
  const nsTypes = new Map<string, string | undefined>();
  if (Array.isArray(linux.namespaces)) {
    linux.namespaces.forEach((n: unknown, i) => {
      if (!isObj(n) || typeof n.type !== "string" || !(OCI_NAMESPACE_TYPES as readonly string[]).includes(n.type)) return bad(`linux.namespaces[${i}].type`, "is not a namespace type");
      if (nsTypes.has(n.type)) bad(`linux.namespaces[${i}]`, `duplicated namespace ${n.type}`);
      if (n.path !== undefined && (typeof n.path !== "string" || !n.path.startsWith("/"))) bad(`linux.namespaces[${i}].path`, "must be an absolute path");
      nsTypes.set(n.type, typeof n.path === "string" ? n.path : undefined);
    });
  } else if (linux.namespaces !== undefined) bad("linux.namespaces", "must be a list");
  if (spec.hostname !== undefined && spec.hostname !== "") {
    if (!nsTypes.has("uts") || nsTypes.get("uts") !== undefined) bad("hostname", "runc sets a hostname only in a new UTS namespace of the container's own");
  }
  if (nsTypes.has("user")) {
    if (!Array.isArray(linux.uidMappings) || linux.uidMappings.length === 0 || !Array.isArray(linux.gidMappings) || linux.gidMappings.length === 0) bad("linux.uidMappings", "a user namespace needs uid and gid mappings");
  }
  if (linux.sysctl !== undefined) {
    if (!isObj(linux.sysctl)) bad("linux.sysctl", "must map strings to strings");
    else
      for (const k of Object.keys(linux.sysctl)) {
        if (k.startsWith("net.") && !nsTypes.has("network")) bad(`linux.sysctl.${k}`, "needs a network namespace");
        if ((k.startsWith("kernel.shm") || k.startsWith("kernel.msg") || k === "kernel.sem" || k.startsWith("fs.mqueue.")) && !nsTypes.has("ipc")) bad(`linux.sysctl.${k}`, "needs an IPC namespace");
      }
  }
  if (linux.rootfsPropagation !== undefined && !PROPAGATIONS.includes(String(linux.rootfsPropagation))) bad("linux.rootfsPropagation", "is not a propagation mode");
  for (const f of ["maskedPaths", "readonlyPaths"] as const) {
    const v = linux[f];
    if (v !== undefined && !(isStrings(v) && v.every((x) => x.startsWith("/")))) bad(`linux.${f}`, "must be a list of absolute paths");
  }
  if (linux.cgroupsPath !== undefined && typeof linux.cgroupsPath !== "string") bad("linux.cgroupsPath", "must be a string");
  if (linux.devices !== undefined) {
    if (!Array.isArray(linux.devices)) bad("linux.devices", "must be a list");
    else
      linux.devices.forEach((d: unknown, i) => {
        if (!isObj(d) || !["c", "b", "u", "p"].includes(String(d.type)) || typeof d.path !== "string" || !d.path.startsWith("/")) return bad(`linux.devices[${i}]`, "needs a type (c, b, u, p) and an absolute path");
        if (d.type !== "p" && !(isUint(d.major) && isUint(d.minor))) bad(`linux.devices[${i}]`, "needs major and minor numbers");
      });
  }
  const res = linux.resources;
  if (res !== undefined) {
    if (!isObj(res)) bad("linux.resources", "must be an object");
    else {
      if (Array.isArray(res.devices)) {
        res.devices.forEach((d: unknown, i) => {
          if (!isObj(d) || typeof d.allow !== "boolean") return bad(`linux.resources.devices[${i}].allow`, "must be a boolean");
          if (d.access !== undefined && !/^[rwm]{1,3}$/.test(String(d.access))) bad(`linux.resources.devices[${i}].access`, "must be made of r, w, m");
          if (d.type !== undefined && !["a", "b", "c"].includes(String(d.type))) bad(`linux.resources.devices[${i}].type`, "must be a, b or c");
        });
      }
      for (const [group, fields] of [
        ["memory", ["limit", "reservation", "swap"]],
        ["cpu", ["shares", "quota", "period"]],
        ["pids", ["limit"]],
      ] as const) {
        const g = res[group];
        if (g === undefined) continue;
        if (!isObj(g)) {
          bad(`linux.resources.${group}`, "must be an object");
          continue;
        }
        for (const f of fields) if (g[f] !== undefined && !isInt(g[f])) bad(`linux.resources.${group}.${f}`, "must be an integer");
      }
      if (res.unified !== undefined && !(isObj(res.unified) && Object.values(res.unified).every((v) => typeof v === "string"))) bad("linux.resources.unified", "must map strings to strings");
      if (res.hugepageLimits !== undefined && !(Array.isArray(res.hugepageLimits) && res.hugepageLimits.every((h: unknown) => isObj(h) && typeof h.pageSize === "string" && isUint(h.limit)))) bad("linux.resources.hugepageLimits", "needs pageSize and limit");
    }
  }
  const sec = linux.seccomp;
  if (sec !== undefined) {
    if (!isObj(sec)) bad("linux.seccomp", "must be an object");
    else {
      if (!(SECCOMP_ACTIONS as readonly string[]).includes(String(sec.defaultAction))) bad("linux.seccomp.defaultAction", "is not a seccomp action");
      if (sec.architectures !== undefined && !(isStrings(sec.architectures) && sec.architectures.every((a) => SECCOMP_ARCHES.includes(a)))) bad("linux.seccomp.architectures", "has an unknown architecture");
      if (sec.flags !== undefined && !(isStrings(sec.flags) && sec.flags.every((f) => SECCOMP_FLAGS.includes(f)))) bad("linux.seccomp.flags", "has a flag runc 1.1 does not know");
      if (Array.isArray(sec.syscalls)) {
        sec.syscalls.forEach((s: unknown, i) => {
          if (!isObj(s) || !isStrings(s.names) || s.names.length === 0) return bad(`linux.seccomp.syscalls[${i}].names`, "must be a non-empty list");
          if (!(SECCOMP_ACTIONS as readonly string[]).includes(String(s.action))) bad(`linux.seccomp.syscalls[${i}].action`, "is not a seccomp action");
          if (s.args !== undefined) {
            if (!Array.isArray(s.args)) return bad(`linux.seccomp.syscalls[${i}].args`, "must be a list");
            s.args.forEach((a: unknown, j) => {
              if (!isObj(a) || !isUint(a.index) || (a.index as number) > 5 || !isUint(a.value) || !(SECCOMP_OPERATORS as readonly string[]).includes(String(a.op))) {
                bad(`linux.seccomp.syscalls[${i}].args[${j}]`, "needs index 0-5, an integer value and an operator");
              }
            });
          }
        });
      } else if (sec.syscalls !== undefined) bad("linux.seccomp.syscalls", "must be a list");
    }
  }
  return p;
}
