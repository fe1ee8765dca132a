// Where the host's cgroup hierarchies are mounted, read from /proc/self/mountinfo: every v1
// hierarchy (cpu, memory, name=systemd, ...) and the v2 one (pure v2, or hybrid's "unified").
import { readFile } from "node:fs/promises";

export interface Hierarchy {
  kind: "v1" | "v2";
  /** Mount point, e.g. /sys/fs/cgroup/memory or /sys/fs/cgroup. */
  mount: string;
  /** v1: the controllers bound to it ("cpu", "cpuacct", "name=systemd"); v2: empty. */
  controllers: string[];
}

// Super options that are mount flags, not controllers.
const NOT_CONTROLLERS = new Set(["rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "all", "none"]);

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * The cgroup hierarchies in a mountinfo text, one per hierarchy (a hierarchy mounted twice is
 * listed once); mounts of a sub-tree (root other than "/") are skipped: paths could not be mapped.
 */
export function parseCgroupMounts(mountinfo: string): Hierarchy[] {
  const out: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(" ");
    const post = line.slice(sep + 3).split(" ");
    const fstype = post[0];
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    const root = unescape(pre[3] ?? "");
    const mount = unescape(pre[4] ?? "");
    if (root !== "/" || !mount) continue;
    const controllers =
      fstype === "cgroup"
        ? (post[2] ?? "")
            .split(",")
            .filter((o) => o !== "" && !NOT_CONTROLLERS.has(o) && !o.startsWith("release_agent="))
            .sort()
        : [];
    const key = `${fstype}:${controllers.join(",")}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind: fstype === "cgroup" ? "v1" : "v2", mount, controllers });
  }
  return out;
}

export async function cgroupHierarchies(mountinfo = "/proc/self/mountinfo"): Promise<Hierarchy[]> {
  return parseCgroupMounts(await readFile(mountinfo, "utf8"));
}
