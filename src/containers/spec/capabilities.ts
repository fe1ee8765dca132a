// Capability sets: Docker's and containerd's default fourteen, CRI add/drop (with "ALL"),
// ambient capabilities on request, every known capability when privileged.
import { invalid } from "../../errors.js";
import type { Capability } from "../../generated/runtime/v1/api.js";
import type { OciCapabilities } from "./oci-types.js";

/** The default set of Docker and containerd (CRI-O's default has nine; see features.md §2.6). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Every capability runc 1.1.5 knows (`runc features`), in kernel number order. */
export const ALL_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** CRI names come without the prefix ("NET_ADMIN"); accept either spelling, any case. */
function canonical(name: string, known: ReadonlySet<string>, field: string): string {
  const up = name.trim().toUpperCase();
  const full = up.startsWith("CAP_") ? up : `CAP_${up}`;
  if (!known.has(full)) throw invalid(`${field}: unknown capability ${JSON.stringify(name)}`);
  return full;
}

export interface CapabilityInput {
  requested: Capability | undefined;
  privileged: boolean;
  defaults: readonly string[];
  all: readonly string[];
}

/**
 * containerd's order: add "ALL", then drop "ALL", then the single adds, then the single drops,
 * so drop ["ALL"] + add ["NET_BIND_SERVICE"] leaves just that one. Privileged gets every
 * capability whatever was dropped. Inheritable stays empty unless ambient capabilities are
 * asked for (CVE-2022-24769); an ambient capability is also put in the bounding, permitted and
 * effective sets, which the kernel requires for it to take effect.
 */
export function buildCapabilities(input: CapabilityInput): OciCapabilities {
  const known = new Set(input.all);
  const sc = input.requested;
  const adds = sc?.addCapabilities ?? [];
  const drops = sc?.dropCapabilities ?? [];
  const isAll = (c: string): boolean => c.trim().toUpperCase() === "ALL";

  let set: Set<string>;
  if (input.privileged) {
    set = new Set(input.all);
  } else {
    set = new Set(input.defaults.map((c) => canonical(c, known, "default capabilities")));
    if (adds.some(isAll)) set = new Set(input.all);
    if (drops.some(isAll)) set.clear();
    for (const c of adds) if (!isAll(c)) set.add(canonical(c, known, "linux.security_context.capabilities.add_capabilities"));
    for (const c of drops) if (!isAll(c)) set.delete(canonical(c, known, "linux.security_context.capabilities.drop_capabilities"));
  }

  const ambient: string[] = [];
  for (const c of sc?.addAmbientCapabilities ?? []) {
    if (isAll(c)) throw invalid(`linux.security_context.capabilities.add_ambient_capabilities: "ALL" is not allowed; name each capability`);
    const full = canonical(c, known, "linux.security_context.capabilities.add_ambient_capabilities");
    if (!ambient.includes(full)) ambient.push(full);
    set.add(full);
  }

  const ordered = input.all.filter((c) => set.has(c));
  const caps: OciCapabilities = { bounding: ordered, effective: [...ordered], permitted: [...ordered] };
  if (ambient.length > 0) {
    caps.inheritable = [...ambient];
    caps.ambient = ambient;
  }
  return caps;
}
