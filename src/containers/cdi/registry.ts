// The CDI spec directories as the daemon sees them: rescanned when a container asks for CDI
// devices, each file re-read only when its stat changes; a bad file is logged once and skipped.
import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import type { ContainerConfig } from "../../generated/runtime/v1/api.js";
import { describe, failedPrecondition } from "../../errors.js";
import { logger } from "../../util/log.js";
import { readRegularFile } from "../host/regular-file.js";
import { buildCatalog, resolveDevices, type CdiCatalog } from "./catalog.js";
import { requestedDevices } from "./names.js";
import { parseCdiSpec } from "./parse.js";
import type { CdiInjection, CdiSpec } from "./types.js";
import { validateCdiSpec } from "./validate.js";

const log = logger("cdi");

/** Vendors' generated specs (hundreds of mounts for a GPU driver) stay far below this. */
export const MAX_CDI_SPEC_BYTES = 4 * 1024 * 1024;

interface Cached {
  /** dev, inode, size, mtime, ctime: a change in any re-reads the file. */
  key: string;
  spec?: CdiSpec;
  error?: string;
}

export class CdiRegistry {
  private readonly files = new Map<string, Cached>();

  constructor(readonly dirs: readonly string[]) {}

  /** Rescans the directories (cheap: one readdir per dir and one stat per spec file). */
  async catalog(): Promise<CdiCatalog> {
    const specs: CdiSpec[] = [];
    const errors = new Map<string, string>();
    const live = new Set<string>();
    for (const [priority, dir] of this.dirs.entries()) {
      let names: string[];
      try {
        names = (await readdir(dir)).sort();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") errors.set(dir, `cannot read the directory: ${describe(err)}`);
        continue;
      }
      for (const name of names) {
        const ext = extname(name);
        if (ext !== ".json" && ext !== ".yaml") continue;
        const path = join(dir, name);
        const c = await this.load(path, priority);
        if (!c) continue;
        live.add(path);
        if (c.spec) specs.push(c.spec);
        else errors.set(path, c.error!);
      }
    }
    for (const p of this.files.keys()) if (!live.has(p)) this.files.delete(p);
    return buildCatalog(specs, errors, this.dirs);
  }

  private async load(path: string, priority: number): Promise<Cached | undefined> {
    let st;
    try {
      st = await stat(path);
    } catch {
      return undefined; // removed meanwhile, or a dangling symlink
    }
    if (st.isDirectory()) return undefined;
    const key = `${priority}:${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const old = this.files.get(path);
    if (old?.key === key) return old;
    let c: Cached;
    try {
      const text = await readRegularFile(path, MAX_CDI_SPEC_BYTES, "CDI spec");
      c = { key, spec: validateCdiSpec(parseCdiSpec(text), path, priority) };
      log.info({ path, kind: c.spec!.kind, devices: c.spec!.devices.length }, "CDI spec loaded");
    } catch (err) {
      c = { key, error: describe(err) };
      log.warn({ path, err: c.error }, "CDI spec skipped: it is not valid");
    }
    this.files.set(path, c);
    return c;
  }

  /** The edits for the container's CDI devices; undefined when it asks for none. */
  async resolve(config: ContainerConfig): Promise<CdiInjection | undefined> {
    const requested = requestedDevices(config.CDIDevices, config.annotations);
    if (requested.length === 0) return undefined;
    return resolveDevices(await this.catalog(), requested);
  }
}

/** For CreateContainer: the CDI edits, or a clear error when CDI is not set up for this service. */
export async function resolveCdi(registry: CdiRegistry | undefined, config: ContainerConfig): Promise<CdiInjection | undefined> {
  if (registry) return registry.resolve(config);
  if (requestedDevices(config.CDIDevices, config.annotations).length === 0) return undefined;
  throw failedPrecondition("CDI devices were requested but this container service has no CDI spec directories (config key cdi.spec_dirs)");
}
