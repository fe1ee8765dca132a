// Small strict readers for JSON documents from registries: each names the document and field
// that was wrong, so a hostile or broken manifest fails with a message a user can act on.
import { invalid } from "../../errors.js";

export type JsonObject = Record<string, unknown>;

export function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw invalid(`${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function object(v: unknown, what: string): JsonObject {
  if (!isObject(v)) throw invalid(`${what} must be a JSON object`);
  return v;
}

export function string(v: unknown, what: string): string {
  if (typeof v !== "string") throw invalid(`${what} must be a string`);
  return v;
}

export function optString(v: unknown, what: string): string | undefined {
  return v === undefined || v === null ? undefined : string(v, what);
}

export function stringArray(v: unknown, what: string, max = 65536): string[] {
  if (!Array.isArray(v)) throw invalid(`${what} must be an array of strings`);
  if (v.length > max) throw invalid(`${what} has ${v.length} entries; at most ${max} are accepted`);
  return v.map((x, i) => string(x, `${what}[${i}]`));
}

/** null and absent both mean "not set" (Docker writes null for empty lists). */
export function optStringArray(v: unknown, what: string): string[] | undefined {
  return v === undefined || v === null ? undefined : stringArray(v, what);
}

export function stringMap(v: unknown, what: string): Record<string, string> {
  const o = object(v, what);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) out[k] = string(val, `${what}["${k}"]`);
  return out;
}

export function optStringMap(v: unknown, what: string): Record<string, string> | undefined {
  return v === undefined || v === null ? undefined : stringMap(v, what);
}

/** The keys of a set-like object ({"/data": {}}), as Docker writes Volumes and ExposedPorts. */
export function keySet(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  return Object.keys(object(v, what));
}

export function size(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw invalid(`${what} must be a non-negative integer`);
  return v;
}

const SHA256 = /^sha256:[a-f0-9]{64}$/;
export function sha256Digest(v: unknown, what: string): string {
  const s = string(v, what);
  if (!SHA256.test(s)) throw invalid(`${what} "${s.slice(0, 100)}" is not a sha256 digest ("sha256:" + 64 lowercase hex)`);
  return s;
}

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
export function mediaType(v: unknown, what: string): string {
  const s = string(v, what);
  if (!MEDIA_TYPE.test(s)) throw invalid(`${what} "${s.slice(0, 100)}" is not a media type`);
  return s;
}
