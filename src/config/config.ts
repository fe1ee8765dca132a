// The typed Config object every part of Berth reads, and how it is built: defaults, then the
// TOML file, then BERTH_* environment variables, then command-line flags; every value checked.
import { readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { KEYS, envName, keySpec, type KeySpec } from "./keys.js";
import type { LogLevel } from "../util/log.js";

export const DEFAULT_CONFIG_FILE = "/etc/berth/config.toml";

export interface Config {
  root: string;
  state: string;
  socket: string;
  log: { level: LogLevel };
  registry: { configPath: string; registriesConf: string; maxConcurrentDownloads: number; stallTimeoutMs: number; documentDeadlineMs: number };
  images: { sandboxImage: string; unpack: UnpackConfig; gcIntervalMs: number; sync: boolean };
  network: { confDir: string; binDirs: string[] };
  runtime: { defaultHandler: string; cgroupDriver: "" | "cgroupfs" | "systemd"; runcPath: string; conmonPath: string; handlers: Record<string, HandlerConfig> };
  pods: { shmSize: number; cgroupParent: string };
  cdi: { specDirs: string[] };
  streaming: { address: string; tlsCert: string; tlsKey: string; tlsClientCa: string; idleTimeoutMs: number; tokenTtlMs: number; maxSessions: number };
  events: { queueSize: number };
  metrics: { address: string };
  /** Where the values came from, for `Status verbose` and error messages. */
  source: { file: string; fileFound: boolean };
}

/** The images.max_* budgets and the compression-ratio guard (see src/images/unpack/limits.ts). */
export interface UnpackConfig {
  maxLayerBytes: number;
  maxImageBytes: number;
  maxLayerEntries: number;
  maxImageEntries: number;
  maxLayerInodes: number;
  maxImageInodes: number;
  maxCompressionRatio: number;
  compressionRatioFloor: number;
  maxXattrsPerEntry: number;
  maxLayerXattrs: number;
}

/** `[runtime.handlers.NAME]`: a runc-compatible runtime; runtimeRoot "" means <state>/runtimes/NAME. */
export interface HandlerConfig {
  runtimePath: string;
  runtimeRoot: string;
  options: string[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Value = string | number | boolean | string[] | Record<string, HandlerConfig>;

/** Checks one value against its key's type; returns the normalised value or throws naming key, value and what is allowed. */
export function checkValue(spec: KeySpec, raw: unknown, origin: string): Value {
  const bad = (allowed: string): never => {
    throw new ConfigError(`config key "${spec.path}" (${origin}): ${JSON.stringify(raw)} is not allowed; expected ${allowed}`);
  };
  const t = spec.type;
  switch (t.kind) {
    case "string":
      return typeof raw === "string" ? raw : bad("a string");
    case "path":
      if (typeof raw !== "string" || !raw.startsWith("/")) bad("an absolute path");
      return raw as string;
    case "paths": {
      const list = typeof raw === "string" ? raw.split(",").filter((s) => s !== "") : raw;
      if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === "string" && p.startsWith("/")))
        bad("a non-empty list of absolute paths");
      return list as string[];
    }
    case "enum":
      if (typeof raw !== "string" || !t.values.includes(raw)) bad(`one of ${t.values.map((v) => JSON.stringify(v)).join(", ")}`);
      return raw as string;
    case "address": {
      if (typeof raw !== "string") return bad('"host:port" or ""');
      if (raw === "") return raw;
      const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
      if (!m || Number(m[2]) > 65535) bad('"host:port" (port 0-65535) or "" to disable');
      return raw;
    }
    case "int": {
      const n = typeof raw === "string" && /^-?\d+$/.test(raw) ? Number(raw) : raw;
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < t.min || n > t.max) bad(`an integer from ${t.min} to ${t.max}`);
      return n as number;
    }
    case "duration": {
      if (typeof raw !== "string" || parseDuration(raw) === undefined) bad('a duration such as "500ms", "30s" or "2m"');
      return raw as string;
    }
    case "bool":
      if (raw === true || raw === "true") return true;
      if (raw === false || raw === "false") return false;
      return bad("true or false");
    case "handlers":
      return checkHandlers(spec, raw, origin);
  }
}

const HANDLER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HANDLER_KEYS = ["runtime_path", "runtime_root", "options"];

/** `[runtime.handlers.NAME]` tables (from the environment or a flag: the same as a JSON object). */
function checkHandlers(spec: KeySpec, raw: unknown, origin: string): Record<string, HandlerConfig> {
  const at = (name: string, why: string): never => {
    throw new ConfigError(`config key "${spec.path}.${name}" (${origin}): ${why}`);
  };
  let doc = raw;
  if (typeof raw === "string") {
    try {
      doc = JSON.parse(raw);
    } catch {
      throw new ConfigError(`config key "${spec.path}" (${origin}): ${JSON.stringify(raw)} is not a JSON object of handlers`);
    }
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new ConfigError(`config key "${spec.path}" (${origin}): expected tables [${spec.path}.NAME]`);
  const out: Record<string, HandlerConfig> = {};
  for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!HANDLER_NAME.test(name)) at(name, "a handler name is a DNS label (lower-case letters, digits, '-'; at most 63), as RuntimeClass handlers are");
    if (typeof v !== "object" || v === null || Array.isArray(v)) at(name, "expected a table with runtime_path");
    const t = v as Record<string, unknown>;
    for (const k of Object.keys(t)) if (!HANDLER_KEYS.includes(k)) at(`${name}.${k}`, `unknown key; a handler has ${HANDLER_KEYS.join(", ")}`);
    const path = t["runtime_path"];
    if (typeof path !== "string" || path === "") at(`${name}.runtime_path`, "required: the runtime binary (a name on PATH or an absolute path)");
    const root = t["runtime_root"] ?? "";
    if (typeof root !== "string" || (root !== "" && !root.startsWith("/"))) at(`${name}.runtime_root`, `${JSON.stringify(root)} is not an absolute path`);
    const options = t["options"] ?? [];
    if (!Array.isArray(options) || !options.every((o) => typeof o === "string" && o.startsWith("-"))) at(`${name}.options`, "expected a list of global flags such as [\"--debug\"]");
    out[name] = { runtimePath: path as string, runtimeRoot: root as string, options: [...(options as string[])] };
  }
  return out;
}

export function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * unit);
}

/** Flattens a parsed TOML document to dotted keys, refusing unknown ones. */
function flattenToml(doc: Record<string, unknown>, origin: string, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, v] of Object.entries(doc)) {
    const path = prefix + k;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)) {
      if (keySpec(path)?.type.kind === "handlers") {
        out.set(path, v);
        continue;
      }
      if (keySpec(path)) throw new ConfigError(`config key "${path}" (${origin}): expected a value, found a table`);
      if (!KEYS.some((s) => s.path.startsWith(path + "."))) throw unknownKey(path, origin);
      flattenToml(v as Record<string, unknown>, origin, path + ".", out);
    } else {
      if (!keySpec(path)) throw unknownKey(path, origin);
      out.set(path, v);
    }
  }
  return out;
}

function unknownKey(path: string, origin: string): ConfigError {
  const near = KEYS.filter((s) => s.path.split(".").pop() === path.split(".").pop() || editDistance(s.path, path) <= 2).map((s) => s.path);
  const hint = near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(" or ")}?` : "; `berth config default` lists every key";
  return new ConfigError(`unknown config key "${path}" (${origin})${hint}`);
}

export interface LoadOptions {
  /** Path given with --config; when absent the default file is read if it exists. */
  file?: string;
  /** Dotted key → raw value from command-line flags. */
  overrides?: Map<string, string>;
  env?: NodeJS.ProcessEnv;
  /** The file read when none is named (tests point it elsewhere). */
  defaultFile?: string;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env["BERTH_CONFIG"] ?? opts.defaultFile ?? DEFAULT_CONFIG_FILE;
  const explicit = opts.file !== undefined || env["BERTH_CONFIG"] !== undefined;
  const values = new Map<string, Value>();
  for (const k of KEYS) values.set(k.path, k.default as Value);

  let text: string | undefined;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" || explicit) throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  if (text !== undefined) {
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid TOML: ${(err as Error).message}`);
    }
    for (const [path, raw] of flattenToml(doc, file)) values.set(path, checkValue(keySpec(path)!, raw, file));
  }
  for (const k of KEYS) {
    const raw = env[envName(k.path)];
    if (raw !== undefined) values.set(k.path, checkValue(k, raw, `environment ${envName(k.path)}`));
  }
  for (const [path, raw] of opts.overrides ?? []) {
    const spec = keySpec(path);
    if (!spec) throw unknownKey(path, "command line");
    values.set(path, checkValue(spec, raw, "command line"));
  }
  return toConfig(values, { file, fileFound: text !== undefined });
}

function toConfig(v: Map<string, Value>, source: Config["source"]): Config {
  const s = (p: string) => v.get(p) as string;
  const n = (p: string) => v.get(p) as number;
  return {
    root: s("root"),
    state: s("state"),
    socket: s("socket"),
    log: { level: s("log.level") as LogLevel },
    registry: {
      configPath: s("registry.config_path"),
      registriesConf: s("registry.registries_conf"),
      maxConcurrentDownloads: n("registry.max_concurrent_downloads"),
      stallTimeoutMs: parseDuration(s("registry.stall_timeout"))!,
      documentDeadlineMs: parseDuration(s("registry.document_deadline"))!,
    },
    images: {
      sandboxImage: s("images.sandbox_image"),
      gcIntervalMs: parseDuration(s("images.gc_interval"))!,
      sync: v.get("images.sync") === true,
      unpack: {
        maxLayerBytes: n("images.max_layer_bytes"),
        maxImageBytes: n("images.max_image_bytes"),
        maxLayerEntries: n("images.max_layer_entries"),
        maxImageEntries: n("images.max_image_entries"),
        maxLayerInodes: n("images.max_layer_inodes"),
        maxImageInodes: n("images.max_image_inodes"),
        maxCompressionRatio: n("images.max_compression_ratio"),
        compressionRatioFloor: n("images.compression_ratio_floor"),
        maxXattrsPerEntry: n("images.max_xattrs_per_entry"),
        maxLayerXattrs: n("images.max_layer_xattrs"),
      },
    },
    network: { confDir: s("network.conf_dir"), binDirs: v.get("network.bin_dirs") as string[] },
    runtime: {
      defaultHandler: s("runtime.default_handler"),
      cgroupDriver: s("runtime.cgroup_driver") as Config["runtime"]["cgroupDriver"],
      runcPath: s("runtime.runc_path"),
      conmonPath: s("runtime.conmon_path"),
      handlers: v.get("runtime.handlers") as Record<string, HandlerConfig>,
    },
    pods: { shmSize: n("pods.shm_size"), cgroupParent: s("pods.cgroup_parent") },
    cdi: { specDirs: v.get("cdi.spec_dirs") as string[] },
    streaming: {
      address: s("streaming.address"),
      tlsCert: s("streaming.tls_cert"),
      tlsKey: s("streaming.tls_key"),
      tlsClientCa: s("streaming.tls_client_ca"),
      idleTimeoutMs: parseDuration(s("streaming.idle_timeout"))!,
      tokenTtlMs: parseDuration(s("streaming.token_ttl"))!,
      maxSessions: n("streaming.max_sessions"),
    },
    events: { queueSize: n("events.queue_size") },
    metrics: { address: s("metrics.address") },
    source,
  };
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
