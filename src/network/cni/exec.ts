// Runs one CNI plugin binary the way the CNI spec says (CNI_* environment, netconf on stdin,
// result or error JSON on stdout), with a timeout and the plugin's own message on failure.
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { Code, deadlineExceeded, failedPrecondition } from "../../errors.js";
import { logger } from "../../util/log.js";
import { CniPluginError, isJsonObject, type CniCommand, type CniResult, type JsonObject } from "./types.js";
import { withSpan } from "../../trace/span.js";
import { spawnProcess } from "../../util/spawn.js";

const log = logger("cni-exec");

const MAX_OUTPUT = 1 << 20;
export const DEFAULT_PLUGIN_TIMEOUT_MS = 60_000;

export interface PluginInvocation {
  binDirs: readonly string[];
  type: string;
  command: CniCommand;
  containerId: string;
  /** Empty when the netns is gone (DEL must still run so IPAM frees the address). */
  netns: string;
  ifName: string;
  /** `K=V;K=V` as CNI_ARGS. */
  args: string;
  /** The full netconf for this plugin: name, cniVersion, prevResult, runtimeConfig included. */
  netconf: JsonObject;
  timeoutMs?: number;
}

const found = new Map<string, string>();

/** The first executable `<dir>/<type>` across bin dirs (remembered: plugin dirs rarely change). */
export async function findPlugin(binDirs: readonly string[], type: string): Promise<string> {
  const key = `${binDirs.join(":")}\0${type}`;
  const hit = found.get(key);
  if (hit) {
    try {
      await access(hit, constants.X_OK);
      return hit;
    } catch {
      found.delete(key);
    }
  }
  for (const dir of binDirs) {
    const p = join(dir, type);
    try {
      await access(p, constants.X_OK);
      found.set(key, p);
      return p;
    } catch {
      // next dir
    }
  }
  throw failedPrecondition(`CNI plugin "${type}" not found in ${binDirs.join(", ")}: install it or fix the plugin dirs`);
}

/**
 * Runs the plugin; resolves to the parsed result for ADD (and to undefined for DEL/CHECK,
 * which print nothing on success). Rejects with CniPluginError carrying the plugin's `msg`.
 */
export async function execPlugin(inv: PluginInvocation): Promise<CniResult | undefined> {
  const path = await findPlugin(inv.binDirs, inv.type);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("CNI_")) delete env[k];
  Object.assign(env, {
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: inv.ifName,
    CNI_ARGS: inv.args,
    CNI_PATH: inv.binDirs.join(":"),
  });
  if (!env["PATH"]) env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  const timeoutMs = inv.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  const started = performance.now();
  const { code, stdout, stderr, timedOut } = await withSpan(`cni ${inv.command}`, { "berth.cni.plugin": inv.type, "berth.cni.network": String(inv.netconf["name"]), "berth.pod.id": inv.containerId }, () =>
    run(path, env, JSON.stringify(inv.netconf), timeoutMs));
  log.debug({ plugin: inv.type, command: inv.command, id: inv.containerId, ms: performance.now() - started }, "CNI plugin ran");
  const what = `CNI plugin "${inv.type}" ${inv.command} for network "${String(inv.netconf["name"])}" (container ${inv.containerId})`;

  if (timedOut) throw deadlineExceeded(`${what} timed out after ${timeoutMs} ms`);
  if (code !== 0) throw pluginError(inv.type, what, code, stdout, stderr);
  if (inv.command !== "ADD" && inv.command !== "VERSION") return undefined;
  return parseResult(inv.type, what, stdout, stderr);
}

/** A plugin's stdout after ADD or VERSION: a JSON object with cniVersion, else CniPluginError. */
export function parseResult(type: string, what: string, stdout: string, stderr: string): CniResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new CniPluginError(type, `${what} printed no JSON result: ${truncate(stdout || stderr)}`, undefined);
  }
  if (!isJsonObject(parsed) || typeof parsed["cniVersion"] !== "string") {
    throw new CniPluginError(type, `${what} printed a result without cniVersion: ${truncate(stdout)}`, undefined);
  }
  return parsed as CniResult;
}

/** The error for a plugin that exited non-zero, from its CNI error JSON when it printed one. */
export function pluginError(type: string, what: string, exit: number | null, stdout: string, stderr: string): CniPluginError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    parsed = undefined;
  }
  if (isJsonObject(parsed) && typeof parsed["msg"] === "string") {
    const cniCode = typeof parsed["code"] === "number" ? parsed["code"] : undefined;
    const details = typeof parsed["details"] === "string" && parsed["details"] ? `: ${parsed["details"]}` : "";
    // Code 11 is "try again later" in the spec.
    const grpc = cniCode === 11 ? Code.UNAVAILABLE : Code.INTERNAL;
    return new CniPluginError(type, `${what} failed: ${parsed["msg"]}${details} (CNI error code ${cniCode ?? "?"})`, cniCode, grpc);
  }
  const text = truncate((stderr || stdout).trim()) || "no output";
  return new CniPluginError(type, `${what} failed (exit ${exit ?? "signal"}): ${text}`, undefined);
}

function truncate(s: string): string {
  return s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}

interface RunOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function run(path: string, env: NodeJS.ProcessEnv, stdin: string, timeoutMs: number): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(path, [], { env, stdio: ["in", "out", "out"] });
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const stdinPipe = child.stdin!;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    stdout.on("data", (b: Buffer) => {
      if (outLen < MAX_OUTPUT) out.push(b);
      outLen += b.length;
    });
    stderr.on("data", (b: Buffer) => {
      if (errLen < MAX_OUTPUT) err.push(b);
      errLen += b.length;
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), timedOut });
    });
    // A plugin that exits without reading stdin makes the write fail with EPIPE; its exit
    // status and output say what went wrong.
    stdinPipe.on("error", () => {});
    stdinPipe.end(stdin);
  });
}
