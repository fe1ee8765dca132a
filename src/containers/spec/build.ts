// buildSpec: the OCI config.json for one container from the CRI request, the image config and
// the pod's facts. Pure: every host fact comes in through SpecInput (paths, lookups, options).
import { internal, invalid } from "../../errors.js";
import { NamespaceMode } from "../../generated/runtime/v1/api.js";
import { applyCdiEdits } from "../cdi/apply.js";
import { buildAnnotations } from "./annotations.js";
import { apparmorProfile, DEFAULT_APPARMOR_PROFILE } from "./apparmor.js";
import { ALL_CAPABILITIES, buildCapabilities, DEFAULT_CAPABILITIES } from "./capabilities.js";
import { cleanAbs } from "./clean-path.js";
import { buildDevices } from "./devices.js";
import type { SpecInput } from "./input.js";
import { procPaths } from "./masked-paths.js";
import { buildMounts } from "./mounts.js";
import { buildNamespaces } from "./namespaces.js";
import { toId } from "./numbers.js";
import { OCI_VERSION, type OciLinux, type OciProcess, type OciSpec } from "./oci-types.js";
import { mergeEnv, processArgs, workingDir } from "./process.js";
import { buildResources, oomScoreAdj } from "./resources.js";
import { buildSeccomp } from "./seccomp.js";
import { DEFAULT_SECCOMP } from "./seccomp-default.js";
import { buildSysctls } from "./sysctls.js";

export function buildSpec(input: SpecInput): OciSpec {
  const { config, sandboxConfig: pod, options } = input;
  if (input.containerId === "" || input.sandboxId === "") throw invalid("container id and sandbox id must not be empty");
  if (config.CDIDevices.length > 0 && !input.cdi) throw internal("CDI_devices were not resolved before the spec was built");

  const sc = config.linux?.securityContext;
  const podSc = pod.linux?.securityContext;
  const privileged = sc?.privileged ?? false;
  if (privileged && !podSc?.privileged) {
    throw invalid("linux.security_context.privileged: the pod sandbox is not privileged, so its containers cannot be");
  }
  const readonlyRootfs = sc?.readonlyRootfs ?? false;

  const ns = buildNamespaces({
    pod: podSc?.namespaceOptions,
    container: sc?.namespaceOptions,
    paths: input.namespaces,
    ...(input.targetPidNamespace ? { targetPidNamespace: input.targetPidNamespace } : {}),
    privileged,
    cgroupV2: options.cgroupMode === "v2",
    userNamespacesEnabled: options.userNamespaces ?? false,
  });
  const netMode = podSc?.namespaceOptions?.network ?? sc?.namespaceOptions?.network ?? NamespaceMode.POD;
  const ipcMode = podSc?.namespaceOptions?.ipc ?? sc?.namespaceOptions?.ipc ?? NamespaceMode.POD;

  const capabilities = buildCapabilities({
    requested: sc?.capabilities,
    privileged,
    defaults: options.defaultCapabilities ?? DEFAULT_CAPABILITIES,
    all: options.allCapabilities ?? ALL_CAPABILITIES,
    ...(options.hostCapabilities ? { host: options.hostCapabilities } : {}),
  });

  const user = {
    uid: toId(input.user.uid, "user uid"),
    gid: toId(input.user.gid, "user gid"),
    additionalGids: input.user.additionalGids.map((g, i) => toId(g, `user additionalGids[${i}]`)),
  };

  const proc: OciProcess = {
    terminal: config.tty,
    user,
    args: processArgs(config.command, config.args, input.image),
    env: mergeEnv(input.image, config.envs, input.hostname),
    cwd: workingDir(config.workingDir, input.image),
    capabilities,
    noNewPrivileges: sc?.noNewPrivs ?? false,
    oomScoreAdj: oomScoreAdj(config.linux?.resources, options.oomScoreAdjFloor),
  };
  const apparmor = apparmorProfile({
    profile: sc?.apparmor,
    deprecated: sc?.apparmorProfile ?? "",
    privileged,
    available: options.apparmor,
    defaultName: options.apparmorDefaultProfile ?? DEFAULT_APPARMOR_PROFILE,
  });
  if (apparmor !== undefined) proc.apparmorProfile = apparmor;
  if (options.rlimits && options.rlimits.length > 0) proc.rlimits = options.rlimits.map((r) => ({ ...r }));

  const mountPlan = buildMounts({
    criMounts: config.mounts,
    podFiles: input.podFiles,
    image: input.image,
    imageVolumes: input.imageVolumes ?? {},
    privileged,
    readonlyRootfs,
    recursiveReadOnlyMounts: options.recursiveReadOnlyMounts,
    ...(input.lookupPropagation ? { lookupPropagation: input.lookupPropagation } : {}),
  });

  const devices = buildDevices({
    criDevices: config.devices,
    privileged,
    hostDevices: options.hostDevices,
    lookup: input.lookupDevice,
    ...(options.deviceOwnershipFromSecurityContext && (user.uid !== 0 || user.gid !== 0) ? { owner: { uid: user.uid, gid: user.gid } } : {}),
  });

  const seccomp = buildSeccomp({
    profile: sc?.seccomp,
    deprecatedPath: sc?.seccompProfilePath ?? "",
    privileged,
    caps: capabilities.bounding ?? [],
    whenUnset: options.seccompWhenUnset ?? "unconfined",
    defaultProfile: options.seccompDefault ?? DEFAULT_SECCOMP,
    readProfile: input.readProfile,
    arch: options.arch ?? process.arch,
    ...(options.kernelVersion ? { kernelVersion: options.kernelVersion } : {}),
  });

  const linux: OciLinux = {};
  if (ns.uidMappings) linux.uidMappings = ns.uidMappings;
  if (ns.gidMappings) linux.gidMappings = ns.gidMappings;
  const sysctl = buildSysctls(pod.linux?.sysctls ?? {}, { hostNetwork: netMode === NamespaceMode.NODE, hostIpc: ipcMode === NamespaceMode.NODE });
  if (Object.keys(sysctl).length > 0) linux.sysctl = sysctl;
  linux.resources = { devices: devices.cgroup, ...buildResources(config.linux?.resources, { cgroupV2: options.cgroupMode === "v2", swapController: options.swapController, ...(options.pidsLimit !== undefined ? { pidsLimit: options.pidsLimit } : {}) }) };
  if (input.cgroupsPath === "") throw invalid("cgroups path must not be empty");
  linux.cgroupsPath = input.cgroupsPath;
  linux.namespaces = ns.namespaces;
  if (devices.devices.length > 0) linux.devices = devices.devices;
  if (seccomp) linux.seccomp = seccomp;
  if (mountPlan.rootfsPropagation) linux.rootfsPropagation = mountPlan.rootfsPropagation;
  const paths = procPaths({ masked: sc?.maskedPaths ?? [], readonly: sc?.readonlyPaths ?? [], privileged, userns: ns.userns });
  linux.maskedPaths = paths.maskedPaths;
  linux.readonlyPaths = paths.readonlyPaths;

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: proc,
    root: { path: cleanAbs(input.rootfs, "rootfs"), readonly: readonlyRootfs },
  };
  // runc refuses a hostname without a UTS namespace of the container's own.
  if (ns.newUts && input.hostname !== "") spec.hostname = input.hostname;
  spec.mounts = mountPlan.mounts;
  spec.annotations = buildAnnotations({ config, sandboxConfig: pod, sandboxId: input.sandboxId, imageName: input.imageName, extra: input.annotations ?? {} });
  spec.linux = linux;
  if (input.cdi) applyCdiEdits(spec, input.cdi, input.lookupDevice);
  return spec;
}
