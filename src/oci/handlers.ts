// Runtime handlers (RuntimeClass): each a runtime binary with its own state root and global
// options, probed once at start so Status reports only what was seen to work on this host.
import { spawn } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { release } from "node:os";
import { join } from "node:path";
import { probeIdmappedMounts } from "./idmap-probe.js";
import { logger } from "../util/log.js";
import { which } from "../util/which.js";
import { killGroup } from "./runc.js";

const log = logger("handlers");
const PROBE_TIMEOUT_MS = 20_000;

/** The binary a handler's runtime_path names (absolute when found on PATH). */
export function runtimeBinary(spec: HandlerSpec): string {
  return which(spec.runtimePath) ?? spec.runtimePath;
}

/** One handler as configured (`[runtime.handlers.<name>]`) or as Berth adds it by default. */
export interface HandlerSpec {
  name: string;
  /** The runtime binary: a name on PATH or an absolute path (runc-compatible CLI). */
  runtimePath: string;
  /** Its --root: the runtime's own state for Berth's containers. */
  runtimeRoot: string;
  /** Extra global flags given before every command (and to conmon as --runtime-arg). */
  options: readonly string[];
}

export interface HandlerFeatures {
  /** `rro` mounts: the runtime lists "rro" in `<runtime> features` and the kernel is 5.12+. */
  recursiveReadOnlyMounts: boolean;
  /** hostUsers: false pods: the runtime lists the user namespace and an idmapped overlay works here (probeIdmappedMounts). */
  userNamespaces: boolean;
}

export interface ProbedHandler {
  spec: HandlerSpec;
  /** The binary found (absolute), "" when missing. */
  path: string;
  /** First line of `<runtime> --version`. */
  version: string;
  /** Whether a probe container ran; when false `reason` says why and pods on it are refused. */
  usable: boolean;
  reason: string;
  features: HandlerFeatures;
  /** Why features.userNamespaces is false ("" when true). */
  usernsReason?: string;
}

export interface HandlerSetOptions {
  /** runtime.runc_path and runc's root (the default handler "runc" unless configured otherwise). */
  runcPath: string;
  runcRoot: string;
  /** `[runtime.handlers.*]` from the config. */
  configured: Readonly<Record<string, { runtimePath: string; runtimeRoot: string; options: readonly string[] }>>;
  /** Roots of handlers that name none: <runtimesDir>/<name>. */
  runtimesDir: string;
}

/** runc always; crun when it is on PATH (probed like any other); then the configured ones, which win by name. */
export function handlerSpecs(o: HandlerSetOptions): HandlerSpec[] {
  const out = new Map<string, HandlerSpec>();
  out.set("runc", { name: "runc", runtimePath: o.runcPath, runtimeRoot: o.runcRoot, options: [] });
  if (which("crun")) out.set("crun", { name: "crun", runtimePath: "crun", runtimeRoot: join(o.runtimesDir, "crun"), options: [] });
  for (const [name, c] of Object.entries(o.configured)) {
    out.set(name, { name, runtimePath: c.runtimePath, runtimeRoot: c.runtimeRoot || join(o.runtimesDir, name), options: [...c.options] });
  }
  return [...out.values()];
}

const MAX_PROBE_OUTPUT = 1 << 20;

/** One probe command; past PROBE_TIMEOUT_MS its whole process group is killed (a hung runtime's children hold its pipes open). */
function run(bin: string, args: readonly string[]): Promise<{ ok: boolean; stdout: string; stderr: string; timedOut?: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => void (stdout.length < MAX_PROBE_OUTPUT && (stdout += d)));
    child.stderr.setEncoding("utf8").on("data", (d: string) => void (stderr.length < MAX_PROBE_OUTPUT && (stderr += d)));
    const timer = setTimeout(() => {
      if (child.pid) killGroup(child.pid);
      resolve({ ok: false, stdout, stderr: `\`${bin} ${args.join(" ")}\` did not answer within ${PROBE_TIMEOUT_MS / 1000} s; killed`, timedOut: true });
    }, PROBE_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, stdout, stderr: e.message });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, stdout, stderr: stderr || (code === 0 ? "" : `exit ${code ?? signal}`) });
    });
  });
}

export function kernelAtLeast(version: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a > major || (a === major && b >= minor);
}

/** The runtime's last error line (runc/crun print JSON or plain text), for a reason string. */
function lastError(stderr: string): string {
  const lines = stderr.trim().split("\n").filter(Boolean);
  const last = lines[lines.length - 1] ?? "";
  try {
    const o = JSON.parse(last) as { msg?: unknown };
    if (typeof o.msg === "string") return o.msg;
  } catch {
    // plain text
  }
  return last.replace(/^time="[^"]*" level=\w+ msg="(.*)"$/, "$1").slice(0, 500) || "no output";
}

/**
 * Runs a one-process container (static catatonit printing its version, as nobody, in new
 * PID/mount/IPC/UTS namespaces, with the runtime's default cgroup) with `<runtime> run`: what
 * the handler will be asked to do for every pod, so a runtime that refuses this host (crun on
 * hybrid cgroups) is found out here, not at the first pod.
 */
async function smokeRun(spec: HandlerSpec, bin: string, probeDir: string, catatonit: string): Promise<{ ok: boolean; why: string }> {
  const bundle = await mkdtemp(join(probeDir, `${spec.name}-`));
  const id = `berth-probe-${spec.name}-${process.pid}`;
  try {
    const rootfs = join(bundle, "rootfs");
    await mkdir(join(rootfs, "proc"), { recursive: true, mode: 0o755 });
    await copyFile(catatonit, join(rootfs, "catatonit"));
    await chmod(join(rootfs, "catatonit"), 0o755);
    const config = {
      ociVersion: "1.0.2-dev",
      process: { terminal: false, user: { uid: 65534, gid: 65534 }, args: ["/catatonit", "--version"], cwd: "/", env: ["PATH=/"], noNewPrivileges: true },
      root: { path: "rootfs", readonly: true },
      mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
      linux: { namespaces: [{ type: "pid" }, { type: "mount" }, { type: "ipc" }, { type: "uts" }] },
    };
    await writeFile(join(bundle, "config.json"), JSON.stringify(config), { mode: 0o600 });
    await mkdir(spec.runtimeRoot, { recursive: true, mode: 0o700 });
    const r = await run(bin, [`--root=${spec.runtimeRoot}`, ...spec.options, "run", "--bundle", bundle, id]);
    if (!r.ok) {
      await run(bin, [`--root=${spec.runtimeRoot}`, ...spec.options, "delete", "--force", id]);
      return { ok: false, why: `\`${spec.runtimePath} run\` of a probe container failed: ${lastError(r.stderr)}` };
    }
    return { ok: true, why: "" };
  } finally {
    await rm(bundle, { recursive: true, force: true });
  }
}

export async function probeHandler(spec: HandlerSpec, probeDir: string, catatonit: string | undefined, kernel = release()): Promise<ProbedHandler> {
  const bin = which(spec.runtimePath);
  const none: HandlerFeatures = { recursiveReadOnlyMounts: false, userNamespaces: false };
  if (!bin) return { spec, path: "", version: "", usable: false, reason: `runtime binary "${spec.runtimePath}" not found`, features: none };
  const [v, f] = await Promise.all([run(bin, ["--version"]), run(bin, ["features"])]);
  const version = v.stdout.split("\n")[0]?.trim() ?? "";
  // A runtime that hangs here would hang in every call: unusable without going further.
  const hung = [v, f].find((r) => r.timedOut);
  if (hung) return { spec, path: bin, version, usable: false, reason: hung.stderr, features: none };
  let rro = false;
  if (f.ok) {
    try {
      const doc = JSON.parse(f.stdout) as { mountOptions?: unknown };
      rro = Array.isArray(doc.mountOptions) && doc.mountOptions.includes("rro");
    } catch {
      rro = false;
    }
  }
  const features: HandlerFeatures = { recursiveReadOnlyMounts: rro && kernelAtLeast(kernel, 5, 12), userNamespaces: false };
  if (!catatonit) return { spec, path: bin, version, usable: false, reason: "catatonit (the probe's static binary) is not installed, so the handler could not be checked", features };
  const smoke = await smokeRun(spec, bin, probeDir, catatonit);
  const userns = smoke.ok ? await probeIdmappedMounts(probeDir, bin) : { ok: false as const, reason: "the handler is unusable" };
  features.userNamespaces = userns.ok;
  return { spec, path: bin, version, usable: smoke.ok, reason: smoke.why, features, usernsReason: userns.ok ? "" : userns.reason };
}

/**
 * Probes every handler in parallel, each answer on its own (by handler name): a pod waits for its
 * handler's verdict only, never behind another handler's runtime that hangs. `probeDir` is a
 * private scratch dir (made and emptied here). Never rejects.
 */
export function probeHandlers(specs: readonly HandlerSpec[], probeDir: string): Map<string, Promise<ProbedHandler>> {
  const catatonit = which("catatonit");
  // Bundles left by a daemon stopped mid-probe go first.
  const prepared = (async () => {
    await rm(probeDir, { recursive: true, force: true }).catch(() => undefined);
    await mkdir(probeDir, { recursive: true, mode: 0o700 }).catch((err: unknown) => log.warn({ probeDir, err: (err as Error).message }, "cannot make the probe dir"));
  })();
  const one = async (s: HandlerSpec): Promise<ProbedHandler> => {
    await prepared;
    const h = await probeHandler(s, probeDir, catatonit).catch((err: unknown): ProbedHandler => ({
      spec: s, path: "", version: "", usable: false, reason: `the probe could not run: ${(err as Error).message}`, features: { recursiveReadOnlyMounts: false, userNamespaces: false },
    }));
    const fields = { handler: h.spec.name, path: h.path, version: h.version, ...h.features, ...(h.usernsReason ? { usernsReason: h.usernsReason } : {}) };
    if (h.usable) log.info(fields, "runtime handler ready");
    else log.warn({ ...fields, reason: h.reason }, "runtime handler unusable on this host: pods naming it are refused");
    return h;
  };
  return new Map(specs.map((s) => [s.name, one(s)]));
}
