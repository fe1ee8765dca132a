// crictl's client config file (/etc/crictl.yaml, or --config / $CRI_CONFIG_FILE): the endpoints,
// timeout and debug the CLI falls back to, and `berth config --get/--set/--list` over it.
import { readFileSync, writeFileSync } from "node:fs";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { UsageError } from "./output.js";

export const DEFAULT_CLIENT_CONFIG = "/etc/crictl.yaml";

/** The keys crictl's config file has (crictl's own names). */
export const CLIENT_CONFIG_KEYS = ["runtime-endpoint", "image-endpoint", "timeout", "debug", "pull-image-on-create", "disable-pull-on-run"] as const;
export type ClientConfigKey = (typeof CLIENT_CONFIG_KEYS)[number];
export type ClientConfig = Partial<Record<ClientConfigKey, string | number | boolean>>;

/** The file's keys; a missing file is empty (as crictl), a broken one a clear error. */
export function readClientConfig(file: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new UsageError(`client config ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`client config ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new UsageError(`client config ${file}: expected a YAML mapping of ${CLIENT_CONFIG_KEYS.join(", ")}`);
  const out: ClientConfig = {};
  for (const [k, v] of Object.entries(doc)) {
    if (!(CLIENT_CONFIG_KEYS as readonly string[]).includes(k)) continue; // crictl ignores unknown keys too
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k as ClientConfigKey] = v;
  }
  return out;
}

function checkKey(k: string): ClientConfigKey {
  if (!(CLIENT_CONFIG_KEYS as readonly string[]).includes(k)) throw new UsageError(`no client config key "${k}"; keys: ${CLIENT_CONFIG_KEYS.join(", ")}`);
  return k as ClientConfigKey;
}

function typed(k: ClientConfigKey, v: string): string | number | boolean {
  if (k === "debug" || k === "pull-image-on-create" || k === "disable-pull-on-run") {
    if (v !== "true" && v !== "false") throw new UsageError(`client config ${k}: expected true or false, got "${v}"`);
    return v === "true";
  }
  if (k === "timeout") {
    if (!/^\d+$/.test(v)) throw new UsageError(`client config timeout: expected whole seconds, got "${v}"`);
    return Number(v);
  }
  return v;
}

/** `berth config --get K | --set k=v[,k=v] | --list` on the client config file; returns what to print. */
export function clientConfigCommand(file: string, op: { get?: string | undefined; set?: string[] | undefined; list?: boolean | undefined }): string {
  const cfg = readClientConfig(file);
  if (op.get !== undefined) {
    const v = cfg[checkKey(op.get)];
    return v === undefined ? "" : `${String(v)}\n`;
  }
  if (op.set !== undefined && op.set.length > 0) {
    for (const pair of op.set.flatMap((s) => s.split(","))) {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new UsageError(`--set "${pair}": expected key=value`);
      const k = checkKey(pair.slice(0, eq));
      cfg[k] = typed(k, pair.slice(eq + 1));
    }
    writeFileSync(file, toYaml(cfg));
    return "";
  }
  return CLIENT_CONFIG_KEYS.map((k) => `${k}: ${cfg[k] === undefined ? "" : String(cfg[k])}\n`).join("");
}
