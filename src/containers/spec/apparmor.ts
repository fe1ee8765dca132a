// The AppArmor profile name for the container: Berth's default profile (which the caller has
// loaded), a named Localhost profile, or unconfined; nothing when the host has no AppArmor.
import { invalid } from "../../errors.js";
import { SecurityProfile_ProfileType, type SecurityProfile } from "../../generated/runtime/v1/api.js";

export const DEFAULT_APPARMOR_PROFILE = "berth-default";

export interface AppArmorInput {
  profile: SecurityProfile | undefined;
  /** The deprecated apparmor_profile: "runtime/default", "unconfined", "localhost/<name>". */
  deprecated: string;
  privileged: boolean;
  available: boolean;
  defaultName: string;
}

type Choice = { kind: "default" } | { kind: "unconfined" } | { kind: "localhost"; name: string };

function choose(input: AppArmorInput): Choice {
  const p = input.profile;
  if (p) {
    switch (p.profileType) {
      case SecurityProfile_ProfileType.RuntimeDefault:
        return { kind: "default" };
      case SecurityProfile_ProfileType.Unconfined:
        return { kind: "unconfined" };
      case SecurityProfile_ProfileType.Localhost:
        return { kind: "localhost", name: p.localhostRef };
      default:
        throw invalid(`linux.security_context.apparmor.profile_type ${String(p.profileType)} is not RuntimeDefault, Unconfined or Localhost`);
    }
  }
  const d = input.deprecated;
  // Unset means the runtime default (kubernetes#51746), as containerd does.
  if (d === "" || d === "runtime/default") return { kind: "default" };
  if (d === "unconfined") return { kind: "unconfined" };
  if (d.startsWith("localhost/")) return { kind: "localhost", name: d.slice("localhost/".length) };
  throw invalid(`linux.security_context.apparmor_profile ${JSON.stringify(d)} is not runtime/default, unconfined or localhost/<name>`);
}

/**
 * Privileged containers run unconfined unless they name a Localhost profile. Without AppArmor on
 * the host the default and unconfined choices need nothing; a Localhost profile is an error.
 */
export function apparmorProfile(input: AppArmorInput): string | undefined {
  const c = choose(input);
  if (c.kind === "localhost") {
    if (!/^[^\s\0]+$/.test(c.name)) throw invalid(`linux.security_context.apparmor localhost profile name ${JSON.stringify(c.name)} must be one word`);
    if (!input.available) throw invalid(`linux.security_context.apparmor: profile ${JSON.stringify(c.name)} was asked for but AppArmor is not enabled on this node`);
    return c.name;
  }
  if (!input.available) return undefined;
  if (c.kind === "unconfined" || input.privileged) return "unconfined";
  return input.defaultName;
}
