// Seccomp profiles in Docker's format (the OCI fields plus archMap and per-rule includes/
// excludes on capabilities, architecture and kernel): shape checks, and compiling to OCI.
import { invalid } from "../../errors.js";
import {
  SECCOMP_ACTIONS,
  SECCOMP_ARCHES,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  type OciSeccomp,
  type OciSeccompArg,
  type OciSyscall,
  type SeccompAction,
  type SeccompOperator,
} from "./oci-types.js";

export interface SeccompCondition {
  /** All of these must be in the bounding set (includes) / none of them (excludes). */
  caps?: string[];
  /** Go architecture names as Docker writes them: amd64, arm64, ... */
  arches?: string[];
  /** "major.minor": the rule needs at least this kernel. */
  minKernel?: string;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
  includes?: SeccompCondition;
  excludes?: SeccompCondition;
  comment?: string;
}

export interface SeccompArchMap {
  architecture: string;
  subArchitectures: string[];
}

export interface SeccompTemplate {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: SeccompArchMap[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: SeccompRule[];
}

/** Node's process.arch → Docker's Go name (for includes.arches) and libseccomp's native arch. */
export const ARCHES: Readonly<Record<string, { go: string; scmp: string }>> = {
  x64: { go: "amd64", scmp: "SCMP_ARCH_X86_64" },
  arm64: { go: "arm64", scmp: "SCMP_ARCH_AARCH64" },
  ia32: { go: "386", scmp: "SCMP_ARCH_X86" },
  arm: { go: "arm", scmp: "SCMP_ARCH_ARM" },
  s390x: { go: "s390x", scmp: "SCMP_ARCH_S390X" },
  ppc64: { go: "ppc64le", scmp: "SCMP_ARCH_PPC64LE" },
  riscv64: { go: "riscv64", scmp: "SCMP_ARCH_RISCV64" },
};

/** Largest profile file read; Docker's default is about 20 KiB. */
export const MAX_PROFILE_BYTES = 1 << 20;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

class Checker {
  constructor(private readonly where: string) {}

  fail(field: string, what: string): never {
    throw invalid(`${this.where}: ${field} ${what}`);
  }

  oneOf<T extends string>(v: unknown, list: readonly T[], field: string, what: string): T {
    if (typeof v !== "string" || !(list as readonly string[]).includes(v)) this.fail(field, `${JSON.stringify(v)} is not ${what}`);
    return v as T;
  }

  uint(v: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max) {
      this.fail(field, `${JSON.stringify(v)} must be an integer from 0 to ${max} (larger values cannot be carried exactly)`);
    }
    return v;
  }

  strings(v: unknown, field: string): string[] {
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s === "")) this.fail(field, "must be a list of non-empty strings");
    return v as string[];
  }

  optString(v: unknown, field: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") this.fail(field, "must be a string");
    return v;
  }
}

function condition(c: Checker, v: unknown, field: string): SeccompCondition | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) c.fail(field, "must be an object");
  const out: SeccompCondition = {};
  if (v.caps !== undefined && v.caps !== null) out.caps = c.strings(v.caps, `${field}.caps`);
  if (v.arches !== undefined && v.arches !== null) out.arches = c.strings(v.arches, `${field}.arches`);
  const mk = c.optString(v.minKernel, `${field}.minKernel`);
  if (mk !== undefined && mk !== "") {
    if (!/^\d+\.\d+/.test(mk)) c.fail(`${field}.minKernel`, `${JSON.stringify(mk)} is not a kernel version like "4.8"`);
    out.minKernel = mk;
  }
  return out;
}

function arg(c: Checker, v: unknown, field: string): OciSeccompArg {
  if (!isObj(v)) c.fail(field, "must be an object");
  const a: OciSeccompArg = {
    index: c.uint(v.index, `${field}.index`, 5),
    value: c.uint(v.value, `${field}.value`),
    op: c.oneOf<SeccompOperator>(v.op, SECCOMP_OPERATORS, `${field}.op`, "a seccomp operator"),
  };
  if (v.valueTwo !== undefined && v.valueTwo !== null) a.valueTwo = c.uint(v.valueTwo, `${field}.valueTwo`);
  return a;
}

function rule(c: Checker, v: unknown, field: string): SeccompRule {
  if (!isObj(v)) c.fail(field, "must be an object");
  // Old Docker profiles name one syscall per rule in "name".
  const names = v.names !== undefined && v.names !== null ? c.strings(v.names, `${field}.names`) : typeof v.name === "string" && v.name !== "" ? [v.name] : c.fail(`${field}.names`, "is missing");
  if (names.length === 0) c.fail(`${field}.names`, "is empty");
  const r: SeccompRule = { names, action: c.oneOf<SeccompAction>(v.action, SECCOMP_ACTIONS, `${field}.action`, "a seccomp action") };
  if (v.errnoRet !== undefined && v.errnoRet !== null) r.errnoRet = c.uint(v.errnoRet, `${field}.errnoRet`, 4095);
  if (v.args !== undefined && v.args !== null) {
    if (!Array.isArray(v.args) || v.args.length > 6) c.fail(`${field}.args`, "must be a list of at most 6 conditions");
    r.args = v.args.map((x, i) => arg(c, x, `${field}.args[${i}]`));
  }
  const inc = condition(c, v.includes, `${field}.includes`);
  if (inc) r.includes = inc;
  const exc = condition(c, v.excludes, `${field}.excludes`);
  if (exc) r.excludes = exc;
  return r;
}

/** Parses and checks a profile (OCI or Docker format); `where` starts every error message. */
export function parseProfile(text: string, where: string): SeccompTemplate {
  const c: Checker = new Checker(where);
  if (text.length > MAX_PROFILE_BYTES) c.fail("the profile", `is larger than ${MAX_PROFILE_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    c.fail("the profile", `is not valid JSON (${(err as Error).message})`);
  }
  if (!isObj(v)) c.fail("the profile", "must be a JSON object");
  const t: SeccompTemplate = {
    defaultAction: c.oneOf<SeccompAction>(v.defaultAction, SECCOMP_ACTIONS, "defaultAction", "a seccomp action"),
    syscalls: [],
  };
  if (v.defaultErrnoRet !== undefined && v.defaultErrnoRet !== null) t.defaultErrnoRet = c.uint(v.defaultErrnoRet, "defaultErrnoRet", 4095);
  if (v.architectures !== undefined && v.architectures !== null) {
    t.architectures = c.strings(v.architectures, "architectures").map((a, i) => c.oneOf(a, SECCOMP_ARCHES, `architectures[${i}]`, "a seccomp architecture"));
  }
  if (v.archMap !== undefined && v.archMap !== null) {
    if (!Array.isArray(v.archMap)) c.fail("archMap", "must be a list");
    t.archMap = v.archMap.map((m, i) => {
      if (!isObj(m)) c.fail(`archMap[${i}]`, "must be an object");
      const architecture = c.oneOf(m.architecture, SECCOMP_ARCHES, `archMap[${i}].architecture`, "a seccomp architecture");
      const subs = m.subArchitectures === undefined || m.subArchitectures === null ? [] : c.strings(m.subArchitectures, `archMap[${i}].subArchitectures`);
      return { architecture, subArchitectures: subs.map((s, j) => c.oneOf(s, SECCOMP_ARCHES, `archMap[${i}].subArchitectures[${j}]`, "a seccomp architecture")) };
    });
  }
  if ((t.architectures?.length ?? 0) > 0 && (t.archMap?.length ?? 0) > 0) c.fail("the profile", "sets both architectures and archMap; use one");
  if (v.flags !== undefined && v.flags !== null) {
    t.flags = c.strings(v.flags, "flags").map((f, i) => c.oneOf(f, SECCOMP_FLAGS, `flags[${i}]`, "a seccomp flag runc 1.1 knows"));
  }
  const lp = c.optString(v.listenerPath, "listenerPath");
  if (lp) t.listenerPath = lp;
  const lm = c.optString(v.listenerMetadata, "listenerMetadata");
  if (lm) t.listenerMetadata = lm;
  if (v.syscalls !== undefined && v.syscalls !== null) {
    if (!Array.isArray(v.syscalls)) c.fail("syscalls", "must be a list");
    t.syscalls = v.syscalls.map((r, i) => rule(c, r, `syscalls[${i}]`));
  }
  const notify = t.defaultAction === "SCMP_ACT_NOTIFY" || t.syscalls.some((r) => r.action === "SCMP_ACT_NOTIFY");
  if (notify && !t.listenerPath) c.fail("the profile", "uses SCMP_ACT_NOTIFY but has no listenerPath");
  return t;
}

function kernelAtLeast(have: string | undefined, want: string): boolean {
  if (have === undefined) return true; // unknown kernel: keep the rule (Node 24 needs Linux >= 4.18 anyway)
  const parse = (s: string): [number, number] => {
    const m = /^(\d+)\.(\d+)/.exec(s);
    return m ? [Number(m[1]), Number(m[2])] : [0, 0];
  };
  const [hM, hm] = parse(have);
  const [wM, wm] = parse(want);
  return hM > wM || (hM === wM && hm >= wm);
}

export interface CompileContext {
  /** Node's process.arch. */
  arch: string;
  /** The container's bounding set (CAP_ names). */
  caps: readonly string[];
  kernelVersion?: string;
}

/** Resolves archMap and includes/excludes for one container, as Docker does, into an OCI profile. */
export function compileProfile(t: SeccompTemplate, ctx: CompileContext): OciSeccomp {
  const native = ARCHES[ctx.arch];
  const out: OciSeccomp = { defaultAction: t.defaultAction };
  if (t.defaultErrnoRet !== undefined) out.defaultErrnoRet = t.defaultErrnoRet;
  if (t.architectures && t.architectures.length > 0) out.architectures = [...t.architectures];
  else if (t.archMap && native) {
    const m = t.archMap.find((e) => e.architecture === native.scmp);
    if (m) out.architectures = [m.architecture, ...m.subArchitectures];
  }
  if (t.flags && t.flags.length > 0) out.flags = [...t.flags];
  if (t.listenerPath) out.listenerPath = t.listenerPath;
  if (t.listenerMetadata) out.listenerMetadata = t.listenerMetadata;

  const caps = new Set(ctx.caps);
  const goArch = native?.go ?? ctx.arch;
  const syscalls: OciSyscall[] = [];
  for (const r of t.syscalls) {
    const inc = r.includes;
    const exc = r.excludes;
    if (inc?.arches?.length && !inc.arches.includes(goArch)) continue;
    if (inc?.caps?.length && !inc.caps.every((c) => caps.has(c))) continue;
    if (inc?.minKernel && !kernelAtLeast(ctx.kernelVersion, inc.minKernel)) continue;
    if (exc?.arches?.length && exc.arches.includes(goArch)) continue;
    if (exc?.caps?.length && exc.caps.some((c) => caps.has(c))) continue;
    if (exc?.minKernel && kernelAtLeast(ctx.kernelVersion, exc.minKernel)) continue;
    const s: OciSyscall = { names: [...r.names], action: r.action };
    if (r.errnoRet !== undefined) s.errnoRet = r.errnoRet;
    if (r.args && r.args.length > 0) s.args = r.args.map((a) => ({ ...a }));
    syscalls.push(s);
  }
  out.syscalls = syscalls;
  return out;
}
