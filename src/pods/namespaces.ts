// Pins a pod's net/ipc/uts namespaces to files (no pause container), setting hostname and
// namespaced sysctls in the same single process; unpins them idempotently. Layout as pinns.
// A pod user namespace (hostUsers: false) is made in the same unshare, so it owns the others.
import { mkdir, open, rm, statfs } from "node:fs/promises";
import { join } from "node:path";
import { internal, invalid } from "../errors.js";
import { unmountAll } from "../oci/mount.js";
import { makeUserns, type IdMap } from "../oci/userns.js";
import { logger } from "../util/log.js";
import { spawnProcess } from "../util/spawn.js";

const log = logger("namespaces");

const NSFS_MAGIC = 0x6e736673;
const TOOL_TIMEOUT_MS = 10_000;
const TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$/;

export type PinnableNamespace = "net" | "ipc" | "uts" | "user";
export type PinnedNamespaces = Partial<Record<PinnableNamespace, string>>;

export interface PinOptions {
  /** Set in the new UTS namespace; ignored when uts is not pinned (the pod shares the host's). */
  hostname?: string;
  /** Namespaced sysctls, written inside the new namespaces before anything runs there. */
  sysctls?: Readonly<Record<string, string>>;
  /** With want.user: the pod user namespace's mappings (kubelet's IDMappings). */
  userns?: { uids: readonly IdMap[]; gids: readonly IdMap[] };
}

/**
 * Where a pin lives: `<dir>/<kind>ns/<id>`, so with dir `/run` net pins are `/run/netns/<id>`
 * and `ip netns` lists them. The bind mount needs no particular propagation: checked on this
 * kernel (6.18) with `/` private and with a shared bind-mounted dir alike.
 */
export function pinPath(dir: string, kind: PinnableNamespace, id: string): string {
  return join(dir, `${kind}ns`, id);
}

/**
 * Creates and pins the requested namespaces with one `unshare` (plus its helper fork), which
 * also runs `sysctl -w` for the hostname and sysctls inside them. Undoes everything on failure.
 */
export async function pinNamespaces(
  dir: string,
  id: string,
  want: Readonly<Record<"net" | "ipc" | "uts", boolean>> & { readonly user?: boolean },
  opts: PinOptions = {},
): Promise<PinnedNamespaces> {
  if (!SAFE_ID.test(id)) throw invalid(`namespace pin id ${JSON.stringify(id)} must be letters, digits, "_", "." or "-"`);
  const settings = validateSysctls(opts.sysctls ?? {}, { hostNetwork: !want.net, hostIpc: !want.ipc });
  if (want.uts && opts.hostname !== undefined && opts.hostname !== "") {
    if (!HOSTNAME_RE.test(opts.hostname)) throw invalid(`hostname ${JSON.stringify(opts.hostname)} is not a valid host name (RFC 1123, at most 64 characters)`);
    settings.unshift(`kernel.hostname=${opts.hostname}`);
  }
  if (want.user && !opts.userns) throw invalid(`user namespace pin for ${id} needs ID mappings`);
  const kinds = (["user", "net", "ipc", "uts"] as const).filter((k) => want[k]);
  if (kinds.length === 0) return {};

  const pins: PinnedNamespaces = {};
  try {
    for (const k of kinds) {
      const p = pinPath(dir, k, id);
      await mkdir(join(dir, `${k}ns`), { recursive: true, mode: 0o700 });
      // Exclusive create: unshare would happily stack a second namespace on a live pin.
      const fh = await open(p, "wx", 0o444).catch((err: NodeJS.ErrnoException) => {
        throw err.code === "EEXIST" ? invalid(`namespace pin ${p} already exists: unpin the old pod first`) : err;
      });
      await fh.close();
      pins[k] = p;
    }
    const args = kinds.map((k) => `--${k}=${pins[k]}`);
    if (opts.userns) {
      // The unshared process has no capabilities left once it execs (root is not mapped yet), so
      // it only waits while Berth writes the maps. The sysctls are then set as the pod's root
      // (IPC sysctls are writable only by the owner namespace's root, not by the host's), the
      // hostname with sethostname(2): /proc/sys/kernel/hostname is a host-owned file.
      const holder = await makeUserns(pins, kinds.filter((k) => k !== "user"), opts.userns.uids, opts.userns.gids);
      await holder.release();
      const rest = settings.filter((s) => !s.startsWith("kernel.hostname="));
      const name = want.uts && opts.hostname ? opts.hostname : undefined;
      const enter = (["user", "net", "ipc", "uts"] as const).filter((k) => pins[k]).map((k) => `--${k}=${pins[k]}`);
      if (name !== undefined) {
        await runTool("nsenter", [...enter, "--", "sh", "-c", 'hostname "$0" && { [ $# -eq 0 ] || exec sysctl -q -w "$@"; }', name, ...rest], `set hostname and sysctls for ${id}`);
      } else if (rest.length > 0) {
        await runTool("nsenter", [...enter, "--", "sysctl", "-q", "-w", ...rest], `set sysctls for ${id}`);
      }
      return pins;
    }
    const cmd = settings.length ? ["sysctl", "-q", "-w", ...settings] : ["true"];
    await runTool("unshare", [...args, "--", ...cmd], `pin namespaces for ${id}`);
    return pins;
  } catch (err) {
    await unpinNamespaces(pins).catch((e: unknown) => log.warn({ id, err: (e as Error).message }, "undo of namespace pins failed"));
    throw err;
  }
}

/** Unmounts and removes pins; tolerant of pins already unmounted or gone, so safe to repeat. */
export async function unpinNamespaces(pins: PinnedNamespaces): Promise<void> {
  const paths = Object.values(pins).filter((p): p is string => typeof p === "string" && p !== "");
  await unmountAll(paths);
  for (const p of paths) await rm(p, { force: true });
}

export async function isNamespaceFile(path: string): Promise<boolean> {
  try {
    return (await statfs(path)).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

/** Sysctl key in dot form; the slash form swaps `.` and `/` (so `net/ipv4/conf/eth0.1/x` names an interface with a dot), as sysctl(8) and kubelet read it. */
export function sysctlDotName(key: string): string {
  const first = /[./]/.exec(key)?.[0];
  if (first !== "/") return key;
  return key.replace(/[./]/g, (c) => (c === "/" ? "." : "/"));
}

const KEY_RE = /^[A-Za-z0-9_-]+([./][A-Za-z0-9_@:-]+)*$/;

/**
 * Checks sysctls against what a pod may set in its own namespaces: IPC ones (`kernel.shm*`,
 * `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`) need a pod IPC namespace, `net.*` a pod netns.
 * Returns `key=value` arguments for sysctl(8), in a stable order.
 */
export function validateSysctls(
  sysctls: Readonly<Record<string, string>>,
  where: { hostNetwork: boolean; hostIpc: boolean },
): string[] {
  const out: string[] = [];
  for (const key of Object.keys(sysctls).sort()) {
    const value = sysctls[key] ?? "";
    if (!KEY_RE.test(key) || key.split(/[./]/).some((p) => p === "." || p === "..")) {
      throw invalid(`sysctl ${JSON.stringify(key)} is not a valid sysctl name`);
    }
    if (/[\n\0]/.test(value)) throw invalid(`sysctl ${key}: value must not contain a newline or NUL`);
    const name = sysctlDotName(key);
    const ns = namespaceOf(name);
    if (ns === undefined) {
      throw invalid(`sysctl ${key} is not namespaced (allowed: kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*), so a pod may not set it`);
    }
    if (ns === "net" && where.hostNetwork) throw invalid(`sysctl ${key} is not allowed with host network: it would change the host's network settings`);
    if (ns === "ipc" && where.hostIpc) throw invalid(`sysctl ${key} is not allowed with host IPC: it would change the host's IPC settings`);
    out.push(`${key}=${value}`);
  }
  return out;
}

function namespaceOf(name: string): "net" | "ipc" | undefined {
  if (name.startsWith("net.")) return "net";
  if (name === "kernel.sem" || name.startsWith("kernel.shm") || name.startsWith("kernel.msg") || name.startsWith("fs.mqueue.")) return "ipc";
  return undefined;
}

/** Applies sysctls in already-pinned namespaces with one `nsenter … sysctl -w` (e.g. after CNI made eth0). */
export async function applySysctls(pins: PinnedNamespaces, sysctls: Readonly<Record<string, string>>): Promise<void> {
  const settings = validateSysctls(sysctls, { hostNetwork: !pins.net, hostIpc: !pins.ipc });
  if (settings.length === 0) return;
  const enter = [pins.net ? `--net=${pins.net}` : "", pins.ipc ? `--ipc=${pins.ipc}` : ""].filter(Boolean);
  await runTool("nsenter", [...enter, "--", "sysctl", "-q", "-w", ...settings], "apply pod sysctls");
}

function runTool(cmd: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(cmd, args, { stdio: ["ignore", "ignore", "out"], env: { ...process.env, PATH: TOOL_PATH } });
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString("utf8");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), TOOL_TIMEOUT_MS);
    child.on("error", (err: Error) => {
      clearTimeout(timer);
      reject(internal(`${what}: cannot run ${cmd}: ${err.message}`, err));
    });
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(internal(`${what}: ${cmd} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || "no output"}`));
    });
  });
}
