// How a pod's cgroup is named under each driver, as kubelet names them: cgroupfs paths
// (/kubepods/burstable/pod<uid>) and systemd slices (kubepods-burstable-pod<uid>.slice).
import { invalid } from "../errors.js";
import type { CgroupDriverName } from "./cgroups.js";

export interface PodCgroup {
  driver: CgroupDriverName;
  /** As given or generated: a path for cgroupfs, a slice name for systemd. */
  name: string;
  /** The path inside every hierarchy, e.g. /kubepods.slice/kubepods-pod1.slice. */
  path: string;
}

const SEGMENT = /^[A-Za-z0-9_.:@=+-]+$/;
const SLICE = /^[A-Za-z0-9_.:@\\-]+\.slice$/;
const UID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The default parent when the pod names none (config `pods.cgroup_parent`, empty: these). */
export function defaultCgroupParent(driver: CgroupDriverName): string {
  return driver === "systemd" ? "berth.slice" : "/berth";
}

/** A checked cgroupfs path: absolute, no `.`/`..` segments, no odd characters. */
export function checkCgroupfsPath(p: string, what: string): string {
  if (p.endsWith(".slice") && !p.includes("/")) {
    throw invalid(`${what} ${JSON.stringify(p)} is a systemd slice but the cgroup driver is cgroupfs; set runtime.cgroup_driver = "systemd" (kubelet's cgroupDriver must match)`);
  }
  if (!p.startsWith("/")) throw invalid(`${what} ${JSON.stringify(p)} must be an absolute cgroup path such as /kubepods/pod<uid>`);
  const segs = p.split("/").filter((s) => s !== "");
  for (const s of segs) {
    if (s === "." || s === ".." || !SEGMENT.test(s)) throw invalid(`${what} ${JSON.stringify(p)}: segment ${JSON.stringify(s)} is not allowed in a cgroup path`);
  }
  return "/" + segs.join("/");
}

/**
 * A systemd slice name as its cgroup path: every `-` opens a parent slice, so
 * `a-b-c.slice` lives at /a.slice/a-b.slice/a-b-c.slice; `-.slice` is the root.
 */
export function slicePath(slice: string, what = "cgroup_parent"): string {
  if (slice === "-.slice") return "/";
  if (!SLICE.test(slice)) {
    throw invalid(`${what} ${JSON.stringify(slice)} is not a systemd slice name (like kubepods-burstable.slice); with the systemd cgroup driver a pod's parent must be a slice`);
  }
  const stem = slice.slice(0, -".slice".length);
  if (stem.startsWith("-") || stem.endsWith("-") || stem.includes("--")) {
    throw invalid(`${what} ${JSON.stringify(slice)}: a slice name must not start or end with "-" or contain "--"`);
  }
  const parts = stem.split("-");
  let acc = "";
  let path = "";
  for (const part of parts) {
    acc = acc ? `${acc}-${part}` : part;
    path += `/${acc}.slice`;
  }
  return path;
}

/**
 * The pod's cgroup: kubelet passes its own pod-level cgroup as `cgroup_parent` and that is the
 * pod cgroup; without one Berth names `pod<uid>` under the default parent, as kubelet would.
 */
export function podCgroup(driver: CgroupDriverName, cgroupParent: string, defaultParent: string, uid: string): PodCgroup {
  if (cgroupParent) {
    return driver === "systemd"
      ? { driver, name: cgroupParent, path: slicePath(cgroupParent) }
      : { driver, name: cgroupParent, path: checkCgroupfsPath(cgroupParent, "linux.cgroup_parent") };
  }
  if (!UID.test(uid)) throw invalid(`metadata.uid ${JSON.stringify(uid)} must be letters, digits, "_", "." or "-" (at most 128)`);
  const parent = defaultParent || defaultCgroupParent(driver);
  if (driver === "systemd") {
    slicePath(parent, "pods.cgroup_parent");
    const stem = parent === "-.slice" ? "" : parent.slice(0, -".slice".length);
    // `-` means nesting in slice names; kubelet writes the uid's dashes as underscores.
    const name = `${stem ? `${stem}-` : ""}pod${uid.replace(/[-.]/g, "_")}.slice`;
    return { driver, name, path: slicePath(name) };
  }
  const base = checkCgroupfsPath(parent, "pods.cgroup_parent");
  const path = `${base === "/" ? "" : base}/pod${uid}`;
  return { driver, name: path, path };
}
