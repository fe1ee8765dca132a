// The OCI spec builder's public surface, for the container service: buildSpec, resolveUser
// and the types and defaults a caller needs to fill SpecInput.
export { buildSpec } from "./build.js";
export { checkRunAsGroup, resolveUser, userRequestFrom, MAX_ACCOUNT_FILE, type UserRequest } from "./user.js";
export { imageVolumePaths } from "./mounts.js";
export { runcSpecProblems } from "./runc-shape.js";
export { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from "./capabilities.js";
export { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from "./masked-paths.js";
export { DEFAULT_SECCOMP } from "./seccomp-default.js";
export { DEFAULT_APPARMOR_PROFILE } from "./apparmor.js";
export { ANNOTATIONS } from "./annotations.js";
export { parseProfile, compileProfile, type SeccompTemplate } from "./seccomp-profile.js";
export type * from "./input.js";
export type * from "./oci-types.js";
export { OCI_VERSION } from "./oci-types.js";
