// containers-registries.conf(5) version 2, as CRI-O reads it: [[registry]] prefix/location
// rewrites, insecure, blocked, [[registry.mirror]] lists, [aliases]; plus registries.conf.d drop-ins.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { parse, TomlError } from "smol-toml";
import { invalid } from "../../errors.js";
import { FileCache } from "./file-cache.js";

export type PullFrom = "all" | "digest-only" | "tag-only";

export interface MirrorConf {
  location: string;
  insecure: boolean;
  pullFrom: PullFrom;
}

export interface RegistryConf {
  /** What references it applies to: "example.com/foo", or "*.example.com" (any subdomain). */
  prefix: string;
  /** Where to pull from instead ("" keeps the reference's own registry: wildcard prefixes only). */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: MirrorConf[];
  source: string;
}

export interface RegistriesConf {
  registries: RegistryConf[];
  aliases: Record<string, string>;
  /** Informational only: Berth normalises short names to docker.io as containerd does. */
  unqualifiedSearchRegistries: string[];
  sources: string[];
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

function fail(path: string, why: string): never {
  throw invalid(`registries config ${path}: ${why}; fix the file (it is read again on the next pull)`);
}

function bool(v: unknown, path: string, field: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") fail(path, `${field} must be true or false`);
  return v;
}

function str(v: unknown, path: string, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") fail(path, `${field} must be a string`);
  return v;
}

function pullFrom(v: unknown, path: string, field: string, fallback: PullFrom): PullFrom {
  const s = str(v, path, field);
  if (s === undefined || s === "") return fallback;
  if (s !== "all" && s !== "digest-only" && s !== "tag-only") fail(path, `${field} must be "all", "digest-only" or "tag-only"`);
  return s;
}

/** Strips a scheme (containers/image tolerates none; hosts.toml users paste URLs) and a trailing slash. */
function cleanLocation(l: string): string {
  return l.replace(/^https?:\/\//, "").replace(/\/+$/, "");
}

export function parseFile(text: string, path: string): Omit<RegistriesConf, "sources"> {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    const where = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : "";
    return fail(path, `not valid TOML${where}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
  }
  if (doc.registries !== undefined) fail(path, "the version 1 format ([registries.search] etc.) is not supported; use [[registry]] tables");
  const registries: RegistryConf[] = [];
  if (doc.registry !== undefined) {
    if (!Array.isArray(doc.registry)) fail(path, "registry must be an array of tables ([[registry]])");
    for (const [i, r] of (doc.registry as unknown[]).entries()) {
      if (!isTable(r)) fail(path, `[[registry]] #${i + 1} must be a table`);
      const w = `[[registry]] #${i + 1}`;
      const location = cleanLocation(str(r.location, path, `${w} location`) ?? "");
      const prefix = cleanLocation(str(r.prefix, path, `${w} prefix`) ?? location);
      if (prefix === "") fail(path, `${w} needs a location or a prefix`);
      if (prefix.startsWith("*.") && location !== "") fail(path, `${w}: a wildcard prefix "${prefix}" cannot have a location`);
      if (!prefix.startsWith("*.") && location === "") fail(path, `${w} needs a location`);
      const digestOnly = bool(r["mirror-by-digest-only"], path, `${w} mirror-by-digest-only`);
      const defaultPull: PullFrom = digestOnly ? "digest-only" : "all";
      const mirrors: MirrorConf[] = [];
      if (r.mirror !== undefined) {
        if (!Array.isArray(r.mirror)) fail(path, `${w} mirror must be an array of tables ([[registry.mirror]])`);
        for (const [j, m] of (r.mirror as unknown[]).entries()) {
          if (!isTable(m)) fail(path, `${w} mirror #${j + 1} must be a table`);
          const mw = `${w} mirror #${j + 1}`;
          const ml = cleanLocation(str(m.location, path, `${mw} location`) ?? "");
          if (ml === "") fail(path, `${mw} needs a location`);
          mirrors.push({
            location: ml,
            insecure: bool(m.insecure, path, `${mw} insecure`),
            pullFrom: pullFrom(m["pull-from-mirror"], path, `${mw} pull-from-mirror`, defaultPull),
          });
        }
      }
      registries.push({
        prefix, location, mirrors, source: path,
        insecure: bool(r.insecure, path, `${w} insecure`),
        blocked: bool(r.blocked, path, `${w} blocked`),
      });
    }
  }
  const aliases: Record<string, string> = {};
  if (doc.aliases !== undefined) {
    if (!isTable(doc.aliases)) fail(path, "aliases must be a table");
    for (const [k, v] of Object.entries(doc.aliases)) aliases[k] = str(v, path, `aliases."${k}"`) ?? "";
  }
  const usr = doc["unqualified-search-registries"];
  const unqualifiedSearchRegistries = Array.isArray(usr) ? usr.filter((x): x is string => typeof x === "string") : [];
  return { registries, aliases, unqualifiedSearchRegistries };
}

export class RegistriesConfFiles {
  private readonly cache = new FileCache(parseFile);
  /** `file` plus `dropInDir` (default `<file>.d`, containers' registries.conf.d next to it). */
  constructor(readonly file: string, readonly dropInDir?: string) {}

  /** The merged configuration: drop-ins in name order override registries with the same prefix. */
  async load(): Promise<RegistriesConf> {
    const files = [this.file];
    const dir = this.dropInDir ?? join(this.file, "..", "registries.conf.d");
    try {
      for (const n of (await readdir(dir)).sort()) if (n.endsWith(".conf")) files.push(join(dir, n));
    } catch { /* no drop-in directory */ }
    const byPrefix = new Map<string, RegistryConf>();
    const out: RegistriesConf = { registries: [], aliases: {}, unqualifiedSearchRegistries: [], sources: [] };
    for (const f of files) {
      const c = await this.cache.get(f);
      if (!c) continue;
      out.sources.push(f);
      for (const r of c.registries) byPrefix.set(r.prefix, r);
      Object.assign(out.aliases, c.aliases);
      if (c.unqualifiedSearchRegistries.length > 0) out.unqualifiedSearchRegistries = c.unqualifiedSearchRegistries;
    }
    out.registries = [...byPrefix.values()];
    return out;
  }
}

/**
 * The [[registry]] whose prefix matches `ref` ("domain/path[:tag][@digest]") best: the longest
 * prefix ending at a path, tag or digest boundary; wildcard "*.example.com" matches subdomains.
 */
export function matchRegistry(conf: RegistriesConf, ref: string): RegistryConf | undefined {
  let best: RegistryConf | undefined;
  let bestLen = -1;
  for (const r of conf.registries) {
    let len = -1;
    if (r.prefix.startsWith("*.")) {
      const slash = ref.indexOf("/");
      const host = (slash < 0 ? ref : ref.slice(0, slash)).replace(/:\d+$/, "");
      if (host.endsWith(r.prefix.slice(1))) len = r.prefix.length;
    } else if (ref.startsWith(r.prefix)) {
      // A bare host prefix must not match another port of it ("example.com" vs "example.com:5000").
      const next = ref.charAt(r.prefix.length);
      const pathPrefix = r.prefix.includes("/");
      if (next === "" || next === "/" || (pathPrefix && (next === ":" || next === "@"))) len = r.prefix.length;
    }
    if (len > bestLen) {
      best = r;
      bestLen = len;
    }
  }
  return best;
}
