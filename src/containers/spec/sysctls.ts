// The pod's namespaced sysctls for the container spec (containerd copies them there too; the
// pod service has already applied them in the pinned namespaces, so this re-applies the same).
import { invalid } from "../../errors.js";

const KEY = /^[A-Za-z0-9_-]+([./][A-Za-z0-9_@:-]+)*$/;

function dotName(key: string): string {
  // The slash form swaps "." and "/": net/ipv4/conf/eth0.1/x names the interface "eth0.1".
  const first = /[./]/.exec(key)?.[0];
  return first === "/" ? key.replace(/[./]/g, (c) => (c === "/" ? "." : "/")) : key;
}

function kind(name: string): "net" | "ipc" | undefined {
  if (name.startsWith("net.")) return "net";
  if (name === "kernel.sem" || name.startsWith("kernel.shm") || name.startsWith("kernel.msg") || name.startsWith("fs.mqueue.")) return "ipc";
  return undefined;
}

/**
 * Checks each sysctl is namespaced and its namespace is the pod's own (not the host's), and
 * returns them in dot form. A name with "/" inside a part (an interface like eth0.1) cannot be
 * written by runc 1.1, which turns every "." into "/"; such keys are left to the pod's pins.
 */
export function buildSysctls(sysctls: Readonly<Record<string, string>>, where: { hostNetwork: boolean; hostIpc: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(sysctls).sort()) {
    const value = sysctls[key] ?? "";
    if (!KEY.test(key)) throw invalid(`linux.sysctls: ${JSON.stringify(key)} is not a valid sysctl name`);
    if (/[\n\0]/.test(value)) throw invalid(`linux.sysctls[${key}]: the value must not contain a newline or NUL`);
    const name = dotName(key);
    const k = kind(name);
    if (k === undefined) throw invalid(`linux.sysctls: ${key} is not namespaced (allowed: kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*)`);
    if (k === "net" && where.hostNetwork) throw invalid(`linux.sysctls: ${key} is not allowed with host network: it would change the host's settings`);
    if (k === "ipc" && where.hostIpc) throw invalid(`linux.sysctls: ${key} is not allowed with host IPC: it would change the host's settings`);
    if (name.includes("/")) continue;
    out[name] = value;
  }
  return out;
}
