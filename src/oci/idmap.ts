// Idmapped mounts and namespace pins for user-namespaced pods: runc 1.1 cannot make idmapped mounts
// and Node has no open_tree/mount_setattr/move_mount/mount, so this calls them through koffi (a prebuilt FFI).
import { createRequire } from "node:module";
import { internal } from "../errors.js";

const OPEN_TREE_CLONE = 1;
const O_CLOEXEC = 0o2000000;
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const MOUNT_ATTR_IDMAP = 0x0010_0000;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MNT_DETACH = 2;
const MS_BIND = 4096;
const O_RDONLY = 0;
// The "new mount API" syscalls have one number on every Linux architecture (asm-generic).
const SYS_OPEN_TREE = 428;
const SYS_MOVE_MOUNT = 429;
const SYS_MOUNT_SETATTR = 442;

interface Libc {
  syscall: (...args: unknown[]) => number | bigint;
  open: (path: string, flags: number) => number;
  close: (fd: number) => number;
  umount2: (path: string, flags: number) => number;
  mount: (source: string, target: string, type: string | null, flags: number, data: string | null) => number;
  errno: () => number;
}

let libc: Libc | undefined;
let loadError: string | undefined;

function load(): Libc {
  if (libc) return libc;
  if (loadError) throw internal(`idmapped mounts unavailable: ${loadError}`);
  try {
    const koffi = createRequire(import.meta.url)("koffi") as {
      load(name: string): { func(sig: string): (...args: unknown[]) => number | bigint };
      errno(): number;
    };
    const lib = koffi.load("libc.so.6");
    const open = lib.func("int open(const char *path, int flags)");
    const close = lib.func("int close(int fd)");
    const umount2 = lib.func("int umount2(const char *path, int flags)");
    const mount = lib.func("int mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data)");
    libc = {
      mount: (s, t, ty, f, d) => Number(mount(s, t, ty, f, d)),
      syscall: lib.func("long syscall(long nr, ...)"),
      open: (p, f) => Number(open(p, f)),
      close: (fd) => Number(close(fd)),
      umount2: (p, f) => Number(umount2(p, f)),
      errno: () => koffi.errno(),
    };
    return libc;
  } catch (err) {
    loadError = `cannot load koffi or libc: ${(err as Error).message}`;
    throw internal(`idmapped mounts unavailable: ${loadError}`);
  }
}

function fail(c: Libc, what: string): never {
  const e = c.errno();
  throw internal(`${what}: errno ${e} (${ERRNO_NAMES[e] ?? "see errno(3)"})`);
}

const ERRNO_NAMES: Record<number, string> = { 1: "EPERM", 2: "ENOENT", 9: "EBADF", 13: "EACCES", 16: "EBUSY", 22: "EINVAL", 38: "ENOSYS", 95: "EOPNOTSUPP" };

/** A detached copy of the mount at `source`, idmapped with the user namespace pinned at `usernsPath`; returns its fd. */
function idmappedClone(c: Libc, source: string, usernsPath: string, recursive: boolean): number {
  const userns = c.open(usernsPath, O_RDONLY | O_CLOEXEC);
  if (userns < 0) fail(c, `open user namespace ${usernsPath}`);
  try {
    const flags = OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    const tree = Number(c.syscall(SYS_OPEN_TREE, "int", AT_FDCWD, "str", source, "uint", flags));
    if (tree < 0) fail(c, `open_tree(${source})`);
    // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
    const attr = Buffer.alloc(32);
    attr.writeBigUInt64LE(BigInt(MOUNT_ATTR_IDMAP), 0);
    attr.writeBigUInt64LE(BigInt(userns), 24);
    const rc = Number(c.syscall(SYS_MOUNT_SETATTR, "int", tree, "str", "", "uint", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), "void *", attr, "size_t", 32));
    if (rc < 0) {
      const e = c.errno();
      c.close(tree);
      throw internal(`mount_setattr(MOUNT_ATTR_IDMAP) on ${source}: errno ${e} (${ERRNO_NAMES[e] ?? "see errno(3)"}); the filesystem there may not support idmapped mounts`);
    }
    return tree;
  } finally {
    c.close(userns);
  }
}

function attach(c: Libc, tree: number, target: string): void {
  try {
    const rc = Number(c.syscall(SYS_MOVE_MOUNT, "int", tree, "str", "", "int", AT_FDCWD, "str", target, "uint", MOVE_MOUNT_F_EMPTY_PATH));
    if (rc < 0) fail(c, `move_mount onto ${target}`);
  } finally {
    c.close(tree);
  }
}

/**
 * Replaces the mount at `path` (e.g. a container's overlay rootfs) by an idmapped copy of itself,
 * so unmounting `path` later works as before. The original is detached, not left stacked.
 */
export function idmapInPlace(path: string, usernsPath: string): void {
  const c = load();
  const tree = idmappedClone(c, path, usernsPath, false);
  if (c.umount2(path, MNT_DETACH) < 0) {
    const e = c.errno();
    c.close(tree);
    throw internal(`detach ${path} before idmapping it: errno ${e}`);
  }
  attach(c, tree, path);
}

/**
 * Mounts an idmapped copy of `source` (a directory or file; with its submounts when `recursive`)
 * at the existing `target`. Overlayfs cannot itself be idmapped, but it takes idmapped layers.
 */
export function idmapBind(source: string, target: string, usernsPath: string, recursive: boolean): void {
  const c = load();
  attach(c, idmappedClone(c, source, usernsPath, recursive), target);
}

/** Lazily unmounts `path` (an overlay built on it keeps it alive until the overlay goes). */
export function detachMount(path: string): void {
  const c = load();
  if (c.umount2(path, MNT_DETACH) < 0) fail(c, `detach ${path}`);
}

/** Bind-mounts a namespace file (e.g. /proc/<pid>/ns/user) onto an existing pin file. */
export function pinNamespaceFile(source: string, target: string): void {
  const c = load();
  if (c.mount(source, target, null, MS_BIND, null) < 0) fail(c, `bind ${source} onto ${target}`);
}

/** Loads the FFI now, so a missing koffi is reported at start-up; throws with the reason. */
export function loadIdmapSupport(): void {
  load();
}
