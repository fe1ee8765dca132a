// How a host path's mount propagates (shared, slave or private), from /proc/self/mountinfo:
// the spec builder checks Bidirectional and HostToContainer mounts against it, as containerd does.
import { readFileSync } from "node:fs";
import type { HostPropagation, PropagationLookup } from "../spec/index.js";

interface MountLine {
  point: string;
  optional: string[];
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountLine[] {
  const out: MountLine[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const f = line.slice(0, sep).split(" ");
    out.push({ point: unescape(f[4] ?? ""), optional: f.slice(6) });
  }
  return out;
}

/** The propagation of the mount that holds `path` (the longest mount point above it; the last one wins). */
export function propagationOf(mounts: readonly MountLine[], path: string): HostPropagation | undefined {
  let best: MountLine | undefined;
  for (const m of mounts) {
    const under = m.point === "/" || path === m.point || path.startsWith(`${m.point}/`);
    if (under && (!best || m.point.length >= best.point.length)) best = m;
  }
  if (!best) return undefined;
  if (best.optional.some((o) => o.startsWith("shared:"))) return "shared";
  if (best.optional.some((o) => o.startsWith("master:"))) return "slave";
  return "private";
}

/** A lookup that reads mountinfo once, on first use (one CreateContainer). */
export function propagationLookup(): PropagationLookup {
  let mounts: MountLine[] | undefined;
  return (p) => {
    mounts ??= parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
    return propagationOf(mounts, p);
  };
}
