// Device nodes on the host as the spec builder wants them: one path looked up for a CRI device
// (a node, or every node below a directory), and the whole of /dev for privileged containers.
import { lstatSync, readdirSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { HostDevice } from "../spec/index.js";

// Not devices a container should get from the host: its own instances are mounted instead.
const SKIP = new Set(["/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/fd", "/dev/.lxc", "/dev/.udev"]);

// glibc's gnu_dev_major/minor on the 64-bit dev_t.
function major(rdev: number): number {
  const d = BigInt(rdev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & 0xfffff000n));
}

function minor(rdev: number): number {
  const d = BigInt(rdev);
  return Number((d & 0xffn) | ((d >> 12n) & 0xffffff00n));
}

function asDevice(path: string, st: Stats): HostDevice | undefined {
  const type = st.isCharacterDevice() ? "c" : st.isBlockDevice() ? "b" : st.isFIFO() ? "p" : undefined;
  if (!type) return undefined;
  return { path, type, major: major(st.rdev), minor: minor(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

function walk(dir: string, out: HostDevice[], depth: number): void {
  if (depth > 8 || SKIP.has(dir)) return;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) walk(p, out, depth + 1);
    else {
      const d = asDevice(p, st);
      if (d) out.push(d);
    }
  }
}

/** The device node(s) at a host path (symlinks followed for the path itself, as /dev/disk/by-id needs). */
export function lookupDevice(hostPath: string): HostDevice[] | undefined {
  let st;
  try {
    st = statSync(hostPath);
  } catch {
    return undefined;
  }
  if (st.isDirectory()) {
    const out: HostDevice[] = [];
    walk(hostPath, out, 0);
    return out;
  }
  const d = asDevice(hostPath, st);
  return d ? [d] : undefined;
}

let cached: HostDevice[] | undefined;

/** Every device node under /dev (read once; privileged containers are rare). */
export function hostDevices(): HostDevice[] {
  if (!cached) {
    const out: HostDevice[] = [];
    walk("/dev", out, 0);
    // /dev/console and /dev/ptmx come from the container's own devpts/console.
    cached = out.filter((d) => d.path !== "/dev/console" && d.path !== "/dev/ptmx" && d.path !== "/dev/tty");
  }
  return cached;
}
