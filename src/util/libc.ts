// The C library through koffi (a prebuilt FFI from the npm registry), loaded once for the
// syscalls Node lacks: posix_spawn, mount, umount2. Callers fall back to a tool when it is missing.
import { createRequire } from "node:module";
import { constants } from "node:os";

interface Koffi {
  load(name: string): { func(sig: string): unknown };
  errno(): number;
}

let koffi: Koffi | null | undefined;
let lib: { func(sig: string): unknown } | undefined;
let loadError = "";

function load(): Koffi | null {
  if (koffi !== undefined) return koffi;
  try {
    const k = createRequire(import.meta.url)("koffi") as Koffi;
    lib = k.load("libc.so.6");
    koffi = k;
  } catch (err) {
    loadError = `cannot load koffi or libc: ${(err as Error).message}`;
    koffi = null;
  }
  return koffi;
}

/** Why libc cannot be called here ("" when it can). */
export function libcUnavailable(): string {
  load();
  return loadError;
}

/** A libc function by its C prototype (koffi syntax); undefined when koffi or libc is missing. */
export function libcFunc<T>(signature: string): T | undefined {
  if (!load() || !lib) return undefined;
  return lib.func(signature) as T;
}

/** errno of the last libc call on this thread. */
export function lastErrno(): number {
  return load()?.errno() ?? 0;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** "EBUSY" for 16; `E<n>` for a number the table lacks. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}
