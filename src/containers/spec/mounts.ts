// The container's mount list: containerd's default kernel filesystems, the pod's hostname,
// hosts, resolv.conf and shm, the image's volumes and the CRI mounts, parents before children.
import { failedPrecondition, invalid } from "../../errors.js";
import { MountPropagation, type Mount } from "../../generated/runtime/v1/api.js";
import { cleanAbs, depth, isUnder } from "./clean-path.js";
import type { ImageConfig, PodFileMounts, PropagationLookup } from "./input.js";
import type { OciMount } from "./oci-types.js";

/**
 * containerd's default mounts, minus /run (its CRI plugin drops that one too). Privileged
 * containers get cgroupfs read-write, and sysfs too unless the rootfs is read-only (Docker's rule).
 */
export function defaultMounts(privileged: boolean, readonlyRootfs = false): OciMount[] {
  const sysMode = privileged && !readonlyRootfs ? "rw" : "ro";
  const cgroupMode = privileged ? "rw" : "ro";
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", sysMode] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", cgroupMode] },
  ];
}

/**
 * The image's VOLUME paths that need a host dir from the caller: cleaned, without those a CRI
 * mount already covers. A volume at "/" is refused (CVE-2022-23648 bound the host's root there).
 */
export function imageVolumePaths(image: ImageConfig, criMounts: readonly Mount[]): string[] {
  const covered = new Set(criMounts.map((m) => (m.containerPath.startsWith("/") ? cleanAbs(m.containerPath, "mount") : m.containerPath)));
  const out = new Set<string>();
  for (const raw of Object.keys(image.Volumes ?? {})) {
    const p = cleanAbs(raw, "image config Volumes entry");
    if (p === "/") throw invalid(`image config Volumes entry ${JSON.stringify(raw)} would cover the whole root filesystem`);
    if (!covered.has(p)) out.add(p);
  }
  return [...out].sort();
}

export interface MountInput {
  criMounts: readonly Mount[];
  podFiles: PodFileMounts;
  image: ImageConfig;
  imageVolumes: Readonly<Record<string, string>>;
  privileged: boolean;
  readonlyRootfs: boolean;
  recursiveReadOnlyMounts: boolean;
  lookupPropagation?: PropagationLookup;
}

export interface MountPlan {
  mounts: OciMount[];
  /** Set when a mount needs the root to propagate: rshared beats rslave. */
  rootfsPropagation?: "rshared" | "rslave";
}

function criMount(m: Mount, i: number, input: MountInput): { mount: OciMount; propagation?: "rshared" | "rslave" } {
  const field = `mounts[${i}]`;
  const dest = cleanAbs(m.containerPath, `${field}.container_path`);
  if (dest === "/") throw invalid(`${field}.container_path "/" would hide the container's root filesystem`);
  if (m.image && m.image.image !== "") throw invalid(`${field}: image volume mounts (mount.image) are not supported by Berth`);
  if (m.uidMappings.length > 0 || m.gidMappings.length > 0) {
    throw invalid(`${field}: ID-mapped mounts (uidMappings/gidMappings) need runc 1.2 or later; this runtime is runc 1.1`);
  }
  const src = cleanAbs(m.hostPath, `${field}.host_path`);
  if (m.recursiveReadOnly) {
    // The CRI rule: recursive read-only comes with readonly and private propagation (checked
    // before the host's mount state, so the request's own mistake is what the error names).
    if (!m.readonly) throw invalid(`${field}: recursive_read_only needs readonly to be true as well`);
    if (m.propagation !== MountPropagation.PROPAGATION_PRIVATE) throw invalid(`${field}: recursive_read_only needs PROPAGATION_PRIVATE`);
  }
  const options = ["rbind"];
  let propagation: "rshared" | "rslave" | undefined;
  switch (m.propagation) {
    case MountPropagation.PROPAGATION_PRIVATE:
      options.push("rprivate");
      break;
    case MountPropagation.PROPAGATION_HOST_TO_CONTAINER: {
      const p = input.lookupPropagation?.(src);
      if (p === "private") throw failedPrecondition(`${field}: host path ${src} is on a private mount, so host-to-container propagation cannot work; make it shared or slave (mount --make-rshared)`);
      options.push("rslave");
      propagation = "rslave";
      break;
    }
    case MountPropagation.PROPAGATION_BIDIRECTIONAL: {
      const p = input.lookupPropagation?.(src);
      if (p !== undefined && p !== "shared") throw failedPrecondition(`${field}: host path ${src} is on a ${p} mount, so bidirectional propagation cannot work; make it shared (mount --make-rshared)`);
      options.push("rshared");
      propagation = "rshared";
      break;
    }
    default:
      throw invalid(`${field}.propagation ${String(m.propagation)} is not PRIVATE, HOST_TO_CONTAINER or BIDIRECTIONAL`);
  }
  options.push(m.readonly ? "ro" : "rw");
  if (m.recursiveReadOnly) {
    if (!input.recursiveReadOnlyMounts) {
      throw invalid(`${field}: recursive read-only mounts are not available on this node (they need a runc that lists "rro" in \`runc features\` and Linux 5.12 or later)`);
    }
    options.push("rro");
  }
  const mount: OciMount = { destination: dest, type: "bind", source: src, options };
  return propagation ? { mount, propagation } : { mount };
}

function bind(destination: string, source: string, readonly: boolean): OciMount {
  return { destination, type: "bind", source, options: ["rbind", "rprivate", readonly ? "ro" : "rw"] };
}

export function buildMounts(input: MountInput): MountPlan {
  const cri = input.criMounts.map((m, i) => criMount(m, i, input));
  const taken = new Set(cri.map((c) => c.mount.destination));

  // kubelet mounts its own /etc/hosts (and may mount the others); its mount wins over the pod's file.
  const podFiles: OciMount[] = [];
  const files: [string, string | undefined][] = [
    ["/etc/hostname", input.podFiles.hostname],
    ["/etc/hosts", input.podFiles.hosts],
    ["/etc/resolv.conf", input.podFiles.resolvConf],
  ];
  for (const [dest, src] of files) {
    if (src !== undefined && !taken.has(dest)) podFiles.push(bind(dest, cleanAbs(src, `pod file for ${dest}`), input.readonlyRootfs));
  }
  if (input.podFiles.shm !== undefined && !taken.has("/dev/shm")) podFiles.push(bind("/dev/shm", cleanAbs(input.podFiles.shm, "pod shm"), false));

  const volumes: OciMount[] = [];
  for (const dest of imageVolumePaths(input.image, input.criMounts)) {
    const src = input.imageVolumes[dest];
    // No dir from the caller: the volume stays part of the rootfs (CRI-O's image_volumes=ignore).
    if (src !== undefined) volumes.push(bind(dest, cleanAbs(src, `image volume dir for ${dest}`), false));
  }

  const user = [...podFiles, ...volumes, ...cri.map((c) => c.mount)];
  // Array.prototype.sort is stable: same-depth mounts keep their order.
  user.sort((a, b) => depth(a.destination) - depth(b.destination));

  const userDest = new Set(user.map((m) => m.destination));
  const devReplaced = userDest.has("/dev");
  const defaults = defaultMounts(input.privileged, input.readonlyRootfs).filter(
    (d) => !userDest.has(d.destination) && !(devReplaced && isUnder(d.destination, "/dev")),
  );

  const plan: MountPlan = { mounts: [...defaults, ...user] };
  if (cri.some((c) => c.propagation === "rshared")) plan.rootfsPropagation = "rshared";
  else if (cri.some((c) => c.propagation === "rslave")) plan.rootfsPropagation = "rslave";
  return plan;
}
