// Finds the default CNI network: the first valid config file in the conf dir(s), sorted by
// name as libcni does, with invalid files skipped (and logged) rather than fatal.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { invalid } from "../../errors.js";
import { logger } from "../../util/log.js";
import { isJsonObject, type Json, type JsonObject, type LoadedNetwork, type NetConfList, type PluginConf } from "./types.js";

const log = logger("cni-config");

const EXTENSIONS = [".conflist", ".conf", ".json"] as const;
const MAX_CONFIG_BYTES = 1 << 20;
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;

export type ConfigLoad =
  | { kind: "ok"; network: LoadedNetwork; skipped: SkippedFile[] }
  | { kind: "none"; reason: string; skipped: SkippedFile[] };

export interface SkippedFile {
  file: string;
  error: string;
}

/** Candidate config files of one directory, sorted by name; a missing dir has none. */
export async function listConfigFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries.filter((e) => !e.isDirectory() && EXTENSIONS.some((x) => e.name.endsWith(x))).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((n) => join(dir, n));
}

/**
 * Parses and validates one config file's text. `.conflist` must be a list; `.conf`/`.json`
 * hold one plugin and are wrapped (a `.json` that has `plugins` is taken as a list).
 */
export function parseNetworkConfig(text: string, file: string): NetConfList {
  const bad = (field: string, what: string) => invalid(`CNI config ${file}: field "${field}" ${what}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(`CNI config ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!isJsonObject(raw)) throw invalid(`CNI config ${file}: must be a JSON object`);
  const asList = file.endsWith(".conflist") || (!file.endsWith(".conf") && "plugins" in raw);

  const cniVersion = raw["cniVersion"];
  if (typeof cniVersion !== "string" || !VERSION_RE.test(cniVersion)) {
    throw bad("cniVersion", `must be a version string like "1.0.0", got ${JSON.stringify(cniVersion ?? null)}`);
  }
  const name = raw["name"];
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    throw bad("name", `must be a non-empty name of letters, digits, "_", "." or "-", got ${JSON.stringify(name ?? null)}`);
  }

  let pluginsRaw: Json[];
  if (asList) {
    const p = raw["plugins"];
    if (!Array.isArray(p) || p.length === 0) throw bad("plugins", "must be a non-empty array");
    pluginsRaw = p;
  } else {
    const { cniVersion: _v, name: _n, ...plugin } = raw;
    pluginsRaw = [plugin];
  }
  const plugins = pluginsRaw.map((p, i) => validatePlugin(p, asList ? `plugins[${i}]` : "", bad));

  const disableCheck = raw["disableCheck"];
  if (disableCheck !== undefined && typeof disableCheck !== "boolean") throw bad("disableCheck", "must be a boolean");
  return { cniVersion, name, disableCheck: disableCheck === true, plugins };
}

function validatePlugin(p: Json, at: string, bad: (field: string, what: string) => Error): PluginConf {
  const f = (k: string) => (at ? `${at}.${k}` : k);
  if (!isJsonObject(p)) throw bad(at || "(root)", "must be an object");
  const type = p["type"];
  // The type names a binary looked up in the bin dirs: no paths.
  if (typeof type !== "string" || type === "" || type.includes("/") || type === "." || type === "..") {
    throw bad(f("type"), `must name a plugin binary (no "/"), got ${JSON.stringify(type ?? null)}`);
  }
  const caps = p["capabilities"];
  if (caps !== undefined) {
    if (!isJsonObject(caps)) throw bad(f("capabilities"), "must be an object of booleans");
    for (const [k, v] of Object.entries(caps)) {
      if (typeof v !== "boolean") throw bad(f(`capabilities.${k}`), "must be a boolean");
    }
  }
  return { ...(p as JsonObject), type };
}

/** Loads the first valid network config across `dirs` (in order, each sorted by name). */
export async function loadNetworkConfig(dirs: readonly string[]): Promise<ConfigLoad> {
  const skipped: SkippedFile[] = [];
  for (const dir of dirs) {
    for (const file of await listConfigFiles(dir)) {
      try {
        const st = await stat(file);
        if (st.size > MAX_CONFIG_BYTES) throw invalid(`CNI config ${file}: larger than ${MAX_CONFIG_BYTES} bytes`);
        const list = parseNetworkConfig(await readFile(file, "utf8"), file);
        return { kind: "ok", network: { list, file }, skipped };
      } catch (err) {
        const error = (err as Error).message;
        log.warn({ file, error }, "skipping invalid CNI config file");
        skipped.push({ file, error });
      }
    }
  }
  const where = dirs.join(", ");
  const reason =
    skipped.length === 0
      ? `no network config found in ${where}`
      : `no valid network config in ${where} (${skipped.length} invalid file(s) skipped; first: ${skipped[0]?.error})`;
  return { kind: "none", reason, skipped };
}

/**
 * Keeps the loaded config and re-reads it only when a dir or a candidate file changed
 * (stat only: Status calls this every few seconds), so a config that appears is picked up
 * without a restart, including one written in place after an empty create.
 */
export class NetworkConfigSource {
  private signature = "";
  private last: ConfigLoad | undefined;
  private inflight: Promise<ConfigLoad> | undefined;

  constructor(readonly dirs: readonly string[]) {}

  async current(): Promise<ConfigLoad> {
    this.inflight ??= this.refresh().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async refresh(): Promise<ConfigLoad> {
    const sig = await this.computeSignature();
    if (this.last && sig === this.signature) return this.last;
    const load = await loadNetworkConfig(this.dirs);
    this.signature = sig;
    this.last = load;
    if (load.kind === "ok") log.info({ file: load.network.file, name: load.network.list.name }, "CNI network config loaded");
    return load;
  }

  private async computeSignature(): Promise<string> {
    const parts: string[] = [];
    for (const dir of this.dirs) {
      for (const file of await listConfigFiles(dir)) {
        try {
          const st = await stat(file);
          parts.push(`${file}:${st.ino}:${st.size}:${st.mtimeMs}`);
        } catch {
          parts.push(`${file}:gone`);
        }
      }
      parts.push("|");
    }
    return parts.join("\n");
  }
}
