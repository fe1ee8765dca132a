// containerd's registry host configuration: `<config_path>/<host>/hosts.toml` (or `_default`),
// with `server`, ordered `[host."url"]` mirrors, capabilities, ca, skip_verify, client, header.
import { readdir } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { parse, TomlError } from "smol-toml";
import { invalid } from "../../errors.js";
import { http } from "../../util/node-http.js";
import { FileCache } from "./file-cache.js";
import { ALL_CAPABILITIES, type Capabilities, type Endpoint } from "./endpoint.js";

/** One server or mirror entry of a hosts.toml, with file paths still unread. */
export interface HostEntry {
  url: string;
  capabilities: Capabilities;
  caPaths: string[];
  skipVerify: boolean;
  client?: { certPath: string; keyPath: string };
  overridePath: boolean;
  headers: Record<string, string>;
  source: string;
}

export interface HostsFile {
  /** The upstream; undefined when the file names none (the default server is used). */
  server?: HostEntry;
  /** Top-level settings that apply to the server (also the default one). */
  serverDefaults: Omit<HostEntry, "url">;
  mirrors: HostEntry[];
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

function fail(path: string, why: string): never {
  throw invalid(`registry host config ${path}: ${why}; fix the file (it is read again on the next pull)`);
}

function strings(v: unknown, path: string, field: string): string[] {
  if (v === undefined) return [];
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  return fail(path, `${field} must be a string or an array of strings`);
}

function resolvePath(file: string, p: string): string {
  return isAbsolute(p) ? p : join(dirname(file), p);
}

function readEntry(t: Table, path: string, where: string): Omit<HostEntry, "url"> {
  const caps = t.capabilities === undefined ? undefined : strings(t.capabilities, path, `${where}capabilities`);
  for (const c of caps ?? []) if (!["pull", "resolve", "push"].includes(c)) fail(path, `${where}capabilities: unknown "${c}" (pull, resolve, push)`);
  const capabilities: Capabilities = caps === undefined
    ? { ...ALL_CAPABILITIES }
    : { pull: caps.includes("pull"), resolve: caps.includes("resolve"), push: caps.includes("push") };
  if (t.skip_verify !== undefined && typeof t.skip_verify !== "boolean") fail(path, `${where}skip_verify must be true or false`);
  if (t.override_path !== undefined && typeof t.override_path !== "boolean") fail(path, `${where}override_path must be true or false`);
  const entry: Omit<HostEntry, "url"> = {
    capabilities,
    caPaths: strings(t.ca, path, `${where}ca`).map((p) => resolvePath(path, p)),
    skipVerify: t.skip_verify === true,
    overridePath: t.override_path === true,
    headers: {},
    source: path,
  };
  // client = "both.pem" | ["a.pem"] | [["cert.pem", "key.pem"]]; the first pair is used.
  const client = t.client;
  if (client !== undefined) {
    const first: unknown = Array.isArray(client) ? client[0] : client;
    if (typeof first === "string") entry.client = { certPath: resolvePath(path, first), keyPath: resolvePath(path, first) };
    else if (Array.isArray(first) && first.length === 2 && first.every((x) => typeof x === "string")) {
      entry.client = { certPath: resolvePath(path, first[0] as string), keyPath: resolvePath(path, first[1] as string) };
    } else if (first !== undefined) fail(path, `${where}client must be a path or a list of [cert, key] pairs`);
  }
  if (t.header !== undefined) {
    if (!isTable(t.header)) fail(path, `${where}header must be a table`);
    for (const [k, v] of Object.entries(t.header)) {
      const value = strings(v, path, `${where}header.${k}`).join(", ");
      // Sent with every request to the host: a name or value Node refuses failed each one as
      // "cannot reach" (found by the hosts-toml fuzz target).
      try {
        http.validateHeaderName(k);
        http.validateHeaderValue(k, value);
      } catch {
        fail(path, `${where}header.${k}: ${JSON.stringify(k)} = ${JSON.stringify(value.slice(0, 80))} is not a valid HTTP header (no control characters, nothing past U+00FF)`);
      }
      entry.headers[k] = value;
    }
  }
  return entry;
}

export function parseHostsToml(text: string, path: string): HostsFile {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    const where = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : "";
    return fail(path, `not valid TOML${where}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
  }
  const serverDefaults = readEntry(doc, path, "");
  const out: HostsFile = { serverDefaults, mirrors: [] };
  if (doc.server !== undefined) {
    if (typeof doc.server !== "string" || doc.server === "") fail(path, "server must be a URL string");
    out.server = { url: doc.server, ...serverDefaults };
  }
  if (doc.host !== undefined) {
    if (!isTable(doc.host)) fail(path, "host must be a table of [host.\"url\"] entries");
    for (const [url, t] of Object.entries(doc.host)) {
      if (!isTable(t)) fail(path, `host."${url}" must be a table`);
      out.mirrors.push({ url, ...readEntry(t, path, `host."${url}".`) });
    }
  }
  return out;
}

/** The API base URL for an entry: scheme defaults to https; "/v2" is appended unless override_path. */
export function apiBase(raw: string, overridePath: boolean, source: string): { url: string; scheme: "http" | "https"; host: string } {
  let u: URL;
  try {
    u = new URL(raw.includes("://") ? raw : `https://${raw}`);
  } catch {
    return fail(source, `"${raw}" is not a URL`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") fail(source, `"${raw}": only http and https are supported`);
  let path = u.pathname.replace(/\/+$/, "");
  if (path === "") path = "/v2";
  else if (!path.endsWith("/v2") && !overridePath) path = `${path}/v2`;
  return { url: `${u.protocol}//${u.host}${path}`, scheme: u.protocol === "https:" ? "https" : "http", host: u.host };
}

/** Docker-style certs.d directory: *.crt are CAs, <name>.cert + <name>.key a client pair. */
async function certsDir(dir: string): Promise<Pick<HostEntry, "caPaths" | "client">> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return { caPaths: [] };
  }
  const out: Pick<HostEntry, "caPaths" | "client"> = { caPaths: names.filter((n) => n.endsWith(".crt")).map((n) => join(dir, n)) };
  const cert = names.find((n) => n.endsWith(".cert") && names.includes(`${n.slice(0, -5)}.key`));
  if (cert) out.client = { certPath: join(dir, cert), keyPath: join(dir, `${cert.slice(0, -5)}.key`) };
  return out;
}

export class HostsTomlConfig {
  private readonly cache = new FileCache<HostsFile>(parseHostsToml);
  constructor(readonly configPath: string) {}

  /** The host's directory files, tried as containerd does: "<host>", "<host>_<port>_", then "_default". */
  async load(host: string): Promise<{ file?: HostsFile; certs: Pick<HostEntry, "caPaths" | "client">; dir?: string }> {
    const lower = host.toLowerCase();
    const dirs = [lower];
    const m = /^(.*):(\d+)$/.exec(lower);
    if (m) dirs.push(`${m[1]}_${m[2]}_`);
    dirs.push("_default");
    for (const d of dirs) {
      const dir = join(this.configPath, d);
      const file = await this.cache.get(join(dir, "hosts.toml"));
      if (file) return { file, certs: { caPaths: [] }, dir };
      const certs = await certsDir(dir);
      if (certs.caPaths.length > 0 || certs.client) return { certs, dir };
    }
    return { certs: { caPaths: [] } };
  }
}

/** An endpoint from a hosts.toml entry (CA files still as paths: the caller reads them). */
export function entryToEndpoint(e: HostEntry, repository: string, mirror: boolean): Endpoint & { caPaths: string[]; clientPaths?: { certPath: string; keyPath: string } } {
  const base = apiBase(e.url, e.overridePath, e.source);
  return {
    ...base, repository, capabilities: e.capabilities, mirror, pullFrom: "all", headers: e.headers, source: e.source,
    httpFallback: false, tls: { caPems: [], skipVerify: e.skipVerify }, caPaths: e.caPaths,
    ...(e.client ? { clientPaths: e.client } : {}),
  };
}
