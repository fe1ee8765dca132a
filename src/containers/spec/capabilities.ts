// Capability sets: Docker's and containerd's default fourteen, CRI add/drop (with "ALL"),
// ambient capabilities on request, all the host's capabilities (its bounding set) when privileged.
import { failedPrecondition, invalid } from "../../errors.js";
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

/**
 * The names of the capabilities in a /proc/<pid>/status mask (e.g. CapBnd "000001fffeffffff"),
 * in kernel number order; bits runc has no name for are left out (runc would refuse them).
 */
export function capabilitiesInMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The CapBnd mask of a /proc/<pid>/status text. */
export function boundingMask(status: string): string {
  const m = /^CapBnd:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  if (!m) throw new Error("no CapBnd line in /proc/self/status");
  return m[1]!;
}

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
  /** Every capability name runc knows: anything else is an unknown name. */
  all: readonly string[];
  /**
   * The daemon's own bounding set, read once at start (containerd reads its own set too): what
   * privileged and "ALL" mean. runc cannot grant more (`unable to apply caps`), so a capability
   * outside it is refused by name; a default outside it is left out. Default: `all`.
   */
  host?: readonly string[];
}

/**
 * A capability the node cannot grant. FailedPrecondition, not InvalidArgument: the name is valid
 * and the same request succeeds on a node whose bounding set has it (neither containerd nor CRI-O
 * checks; both leave it to runc's `unable to apply caps: operation not permitted`).
 */
function lacked(field: string, cap: string): never {
  throw failedPrecondition(
    `${field}: ${cap} is not in this node's capability bounding set (the set Berth itself runs with), so no container here can have it; ` +
      "remove it from the request, or run the pod on a node whose runtime holds it",
  );
}

/**
 * containerd's order: add "ALL", then drop "ALL", then the single adds, then the single drops,
 * so drop ["ALL"] + add ["NET_BIND_SERVICE"] leaves just that one. Privileged gets the host's
 * whole bounding set whatever was dropped. Inheritable stays empty unless ambient capabilities are
 * asked for (CVE-2022-24769); an ambient capability is also put in the bounding, permitted and
 * effective sets, which the kernel requires for it to take effect.
 */
export function buildCapabilities(input: CapabilityInput): OciCapabilities {
  const known = new Set(input.all);
  const host = new Set(input.host ?? input.all);
  const sc = input.requested;
  const adds = sc?.addCapabilities ?? [];
  const drops = sc?.dropCapabilities ?? [];
  const isAll = (c: string): boolean => c.trim().toUpperCase() === "ALL";
  const grantable = (c: string, field: string): string => {
    const full = canonical(c, known, field);
    return host.has(full) ? full : lacked(field, full);
  };

  let set: Set<string>;
  if (input.privileged) {
    set = new Set(host);
  } else {
    set = new Set(input.defaults.map((c) => canonical(c, known, "default capabilities")).filter((c) => host.has(c)));
    if (adds.some(isAll)) set = new Set(host);
    if (drops.some(isAll)) set.clear();
    for (const c of adds) if (!isAll(c)) set.add(grantable(c, "linux.security_context.capabilities.add_capabilities"));
    for (const c of drops) if (!isAll(c)) set.delete(canonical(c, known, "linux.security_context.capabilities.drop_capabilities"));
  }

  const ambient: string[] = [];
  for (const c of sc?.addAmbientCapabilities ?? []) {
    if (isAll(c)) throw invalid(`linux.security_context.capabilities.add_ambient_capabilities: "ALL" is not allowed; name each capability`);
    const full = grantable(c, "linux.security_context.capabilities.add_ambient_capabilities");
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
