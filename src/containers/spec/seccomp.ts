// Picks the container's seccomp filter from the CRI request: RuntimeDefault (Berth's built-in
// profile), Localhost (a JSON file on the node, checked), Unconfined, or none when privileged.
import { describe, invalid } from "../../errors.js";
import { SecurityProfile_ProfileType, type SecurityProfile } from "../../generated/runtime/v1/api.js";
import type { OciSeccomp } from "./oci-types.js";
import { compileProfile, parseProfile, type SeccompTemplate } from "./seccomp-profile.js";

export interface SeccompInput {
  profile: SecurityProfile | undefined;
  /** The deprecated seccomp_profile_path: "runtime/default", "docker/default", "unconfined", "localhost/<path>". */
  deprecatedPath: string;
  privileged: boolean;
  /** The container's bounding set, for capability-conditional rules. */
  caps: readonly string[];
  whenUnset: "unconfined" | "runtime-default";
  defaultProfile: SeccompTemplate;
  readProfile: (path: string) => string;
  arch: string;
  kernelVersion?: string;
}

type Choice = { kind: "default" } | { kind: "unconfined" } | { kind: "localhost"; path: string };

const FIELD = "linux.security_context.seccomp";

function choose(input: SeccompInput): Choice {
  const p = input.profile;
  if (p) {
    switch (p.profileType) {
      case SecurityProfile_ProfileType.RuntimeDefault:
        return { kind: "default" };
      case SecurityProfile_ProfileType.Unconfined:
        return { kind: "unconfined" };
      case SecurityProfile_ProfileType.Localhost:
        return { kind: "localhost", path: p.localhostRef };
      default:
        throw invalid(`${FIELD}.profile_type ${String(p.profileType)} is not RuntimeDefault, Unconfined or Localhost`);
    }
  }
  const d = input.deprecatedPath;
  if (d === "") return input.whenUnset === "runtime-default" ? { kind: "default" } : { kind: "unconfined" };
  if (d === "runtime/default" || d === "docker/default") return { kind: "default" };
  if (d === "unconfined") return { kind: "unconfined" };
  if (d.startsWith("localhost/")) return { kind: "localhost", path: d.slice("localhost/".length) };
  throw invalid(`linux.security_context.seccomp_profile_path ${JSON.stringify(d)} is not runtime/default, unconfined or localhost/<path>`);
}

/** Largest Localhost profile read (Docker's default profile is about 20 KB of JSON). */
export const MAX_SECCOMP_PROFILE_BYTES = 1024 * 1024;

/**
 * The Localhost profile file the request names, if buildSeccomp will read one (the caller
 * reads it first, asynchronously and checked, and hands it over as readProfile). Undefined
 * for anything else, including requests buildSeccomp will refuse.
 */
export function localhostProfilePath(input: Pick<SeccompInput, "profile" | "deprecatedPath" | "privileged">): string | undefined {
  if (input.privileged) return undefined;
  try {
    const c = choose({ ...input, whenUnset: "unconfined" } as SeccompInput);
    return c.kind === "localhost" && c.path.startsWith("/") ? c.path : undefined;
  } catch {
    return undefined;
  }
}

/** How errors name a Localhost profile. */
export const localhostWhere = (path: string): string => `${FIELD} localhost ${JSON.stringify(path)}`;

function loadLocalhost(input: SeccompInput, path: string): SeccompTemplate {
  const where = localhostWhere(path);
  if (!path.startsWith("/")) throw invalid(`${where}: the profile path must be absolute`);
  let text: string;
  try {
    text = input.readProfile(path);
  } catch (err) {
    throw invalid(`${where}: cannot read the profile: ${describe(err)}`);
  }
  return parseProfile(text, where);
}

/** The OCI seccomp section, or undefined for no filter. Privileged containers get none, as in containerd. */
export function buildSeccomp(input: SeccompInput): OciSeccomp | undefined {
  if (input.privileged) return undefined;
  const c = choose(input);
  if (c.kind === "unconfined") return undefined;
  const template = c.kind === "default" ? input.defaultProfile : loadLocalhost(input, c.path);
  const ctx = input.kernelVersion === undefined ? { arch: input.arch, caps: input.caps } : { arch: input.arch, caps: input.caps, kernelVersion: input.kernelVersion };
  return compileProfile(template, ctx);
}
