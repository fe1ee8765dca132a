// The on-disk record of a pod's network attachment (config, args, result), so DEL runs with
// what ADD used even after a daemon restart or a config change, as libcni's result cache does.
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { invalid } from "../../errors.js";
import { writeFileAtomic } from "../atomic-file.js";
import { isJsonObject, type CapabilityArgs, type CniResult, type NetConfList } from "./types.js";

const KIND = "berth-cni-cache-v1";

export interface CacheEntry {
  kind: typeof KIND;
  containerId: string;
  ifName: string;
  networkName: string;
  netns: string;
  cniArgs: string;
  capabilityArgs: CapabilityArgs;
  config: NetConfList;
  configFile: string;
  /** Absent while ADD is in flight (or if it failed before finishing). */
  result?: CniResult;
}

const SAFE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function cachePath(dir: string, networkName: string, containerId: string, ifName: string): string {
  for (const [what, v] of [["network name", networkName], ["container id", containerId], ["interface", ifName]] as const) {
    if (!SAFE.test(v)) throw invalid(`CNI cache: ${what} ${JSON.stringify(v)} is not a safe file name part`);
  }
  return join(dir, `${networkName}-${containerId}-${ifName}.json`);
}

export async function writeCache(dir: string, entry: Omit<CacheEntry, "kind">): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const data: CacheEntry = { kind: KIND, ...entry };
  await writeFileAtomic(cachePath(dir, entry.networkName, entry.containerId, entry.ifName), JSON.stringify(data), {
    mode: 0o600,
    fsync: true,
  });
}

/** The cached entry, or undefined when there is none (or it is unreadable: DEL then uses the live config). */
export async function readCache(dir: string, networkName: string, containerId: string, ifName: string): Promise<CacheEntry | undefined> {
  let text: string;
  try {
    text = await readFile(cachePath(dir, networkName, containerId, ifName), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isJsonObject(v) || v["kind"] !== KIND || !isJsonObject(v["config"])) return undefined;
  return v as unknown as CacheEntry;
}

/** Every cached entry for a container, whatever network it was attached to (the config may have changed name since). */
export async function findCaches(dir: string, containerId: string, ifName: string): Promise<CacheEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const suffix = `-${containerId}-${ifName}.json`;
  const out: CacheEntry[] = [];
  for (const n of names) {
    if (!n.endsWith(suffix) || n.startsWith(".")) continue;
    const networkName = n.slice(0, -suffix.length);
    const e = await readCache(dir, networkName, containerId, ifName).catch(() => undefined);
    if (e && e.containerId === containerId) out.push(e);
  }
  return out;
}

export async function removeCache(dir: string, networkName: string, containerId: string, ifName: string): Promise<void> {
  await rm(cachePath(dir, networkName, containerId, ifName), { force: true });
}

/** One file of the cache dir: the entry read from it (undefined when unreadable) and the pod id its name carries. */
export interface CacheFile {
  path: string;
  containerId: string;
  entry: CacheEntry | undefined;
}

const FILE = /^(.+)-([0-9a-f]{64})-([A-Za-z0-9][A-Za-z0-9_.-]*)\.json$/;

/** Every entry file whose name carries a pod id, for the collector; temp files are not entries. */
export async function listCacheFiles(dir: string): Promise<CacheFile[]> {
  const out: CacheFile[] = [];
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    const m = FILE.exec(n);
    if (!m || n.startsWith(".")) continue;
    const entry = await readCache(dir, m[1]!, m[2]!, m[3]!).catch(() => undefined);
    out.push({ path: join(dir, n), containerId: m[2]!, entry: entry?.containerId === m[2] ? entry : undefined });
  }
  return out;
}

/** Temp files of writes cut short by a daemon death (writeFileAtomic's `.<name>.<hex>.tmp`); call at start only. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => /^\..+\.[0-9a-f]{12}\.tmp$/.test(n));
  await Promise.all(stale.map((n) => rm(join(dir, n), { force: true })));
  return stale;
}
