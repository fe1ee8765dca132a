// Resolves the container's uid, gid and supplementary groups from the CRI security context
// and the image's USER, /etc/passwd and /etc/group, with Kubernetes' Merge/Strict group rules.
import { invalid } from "../../errors.js";
import { SupplementalGroupsPolicy, type ContainerConfig } from "../../generated/runtime/v1/api.js";
import type { ImageConfig, ResolvedUser } from "./input.js";
import { toId } from "./numbers.js";
import { parseGroup, parsePasswd, type GroupEntry, type PasswdEntry } from "./passwd.js";

export interface UserRequest {
  runAsUser?: bigint | number;
  runAsUsername?: string;
  runAsGroup?: bigint | number;
  supplementalGroups?: readonly (bigint | number)[];
  /** Merge (the default) adds the user's groups from /etc/group; Strict does not. */
  supplementalGroupsPolicy?: SupplementalGroupsPolicy;
  /** The image config's User: "", "uid", "name", "uid:gid", "name:group" (or mixed). */
  imageUser: string;
}

/** Largest /etc/passwd or /etc/group text accepted; the caller should read no more than this. */
export const MAX_ACCOUNT_FILE = 4 << 20;

const NUMERIC = /^\d+$/;

/** The user fields of a security context (CRI's, or a UserRequest); absent ones undefined. */
interface UserFields {
  runAsUser?: unknown;
  runAsUsername?: string | undefined;
  runAsGroup?: unknown;
}

/**
 * The CRI contract: run_as_group "should only be specified when run_as_user or run_as_username
 * is specified; otherwise, the runtime MUST error" (containerd refuses it too).
 */
export function checkRunAsGroup(sc: UserFields | undefined, where = "linux.security_context"): void {
  if (sc?.runAsGroup !== undefined && sc.runAsUser === undefined && !sc.runAsUsername) {
    throw invalid(`${where}.run_as_group is set without run_as_user or run_as_username: set one of them too, or leave run_as_group out to keep the image's user and group`);
  }
}

/** The request the CRI config and image carry, for resolveUser. */
export function userRequestFrom(config: ContainerConfig, image: ImageConfig): UserRequest {
  const sc = config.linux?.securityContext;
  const req: UserRequest = {
    supplementalGroups: sc?.supplementalGroups ?? [],
    supplementalGroupsPolicy: sc?.supplementalGroupsPolicy ?? SupplementalGroupsPolicy.Merge,
    imageUser: image.User ?? "",
  };
  if (sc?.runAsUser) req.runAsUser = sc.runAsUser.value;
  if (sc?.runAsUsername) req.runAsUsername = sc.runAsUsername;
  if (sc?.runAsGroup) req.runAsGroup = sc.runAsGroup.value;
  return req;
}

interface Accounts {
  users: PasswdEntry[];
  groups: GroupEntry[];
}

function byUid(a: Accounts, uid: number): PasswdEntry | undefined {
  return a.users.find((u) => u.uid === uid);
}

function userNamed(a: Accounts, name: string, field: string): PasswdEntry {
  const u = a.users.find((e) => e.name === name);
  if (!u) throw invalid(`${field}: no such user in the image's /etc/passwd`);
  return u;
}

/** The user part of a USER string (or run_as_*), as uid plus what /etc/passwd knows. */
function resolveUserPart(a: Accounts, spec: string, field: string): { uid: number; gid: number; username?: string } {
  if (spec === "" || NUMERIC.test(spec)) {
    const uid = spec === "" ? 0 : toId(BigInt(spec), field);
    const e = byUid(a, uid);
    // Unknown numeric uids run with gid 0, as Docker and containerd do.
    return e ? { uid, gid: e.gid, username: e.name } : { uid, gid: 0 };
  }
  const e = userNamed(a, spec, field);
  return { uid: e.uid, gid: e.gid, username: e.name };
}

function resolveGroupPart(a: Accounts, spec: string, field: string): number {
  if (NUMERIC.test(spec)) return toId(BigInt(spec), field);
  const g = a.groups.find((e) => e.name === spec);
  if (!g) throw invalid(`${field}: no such group ${JSON.stringify(spec)} in the image's /etc/group`);
  return g.gid;
}

/**
 * uid: run_as_user, else run_as_username, else the image's USER, else 0. gid: run_as_group,
 * else USER's group part (when USER decided the uid), else the user's /etc/passwd group, else 0.
 * additionalGids: the primary gid first (containerd's fix for CVE-2023-25173), then with Merge the
 * groups in /etc/group that list the user by name, then supplemental_groups; no duplicates.
 * run_as_group without run_as_user or run_as_username is InvalidArgument (checkRunAsGroup).
 */
export function resolveUser(req: UserRequest, passwd: string, group: string): ResolvedUser {
  if (passwd.length > MAX_ACCOUNT_FILE || group.length > MAX_ACCOUNT_FILE) {
    throw invalid(`the image's /etc/passwd or /etc/group is larger than ${MAX_ACCOUNT_FILE} bytes`);
  }
  checkRunAsGroup(req);
  const a: Accounts = { users: parsePasswd(passwd), groups: parseGroup(group) };

  let user: { uid: number; gid: number; username?: string };
  if (req.runAsUser !== undefined) {
    const uid = toId(req.runAsUser, "linux.security_context.run_as_user");
    const e = byUid(a, uid);
    user = e ? { uid, gid: e.gid, username: e.name } : { uid, gid: 0 };
  } else if (req.runAsUsername) {
    const field = `linux.security_context.run_as_username ${JSON.stringify(req.runAsUsername)}`;
    const e = userNamed(a, req.runAsUsername, field);
    user = { uid: e.uid, gid: e.gid, username: e.name };
  } else {
    const field = `image config User ${JSON.stringify(req.imageUser)}`;
    const colon = req.imageUser.indexOf(":");
    const userPart = colon < 0 ? req.imageUser : req.imageUser.slice(0, colon);
    user = resolveUserPart(a, userPart, field);
    if (colon >= 0) {
      const groupPart = req.imageUser.slice(colon + 1);
      if (groupPart === "") throw invalid(`${field}: the group after ":" is empty`);
      user.gid = resolveGroupPart(a, groupPart, field);
    }
  }
  if (req.runAsGroup !== undefined) user.gid = toId(req.runAsGroup, "linux.security_context.run_as_group");

  const gids: number[] = [user.gid];
  const policy = req.supplementalGroupsPolicy ?? SupplementalGroupsPolicy.Merge;
  if (policy === SupplementalGroupsPolicy.Merge) {
    const name = user.username;
    if (name !== undefined) for (const g of a.groups) if (g.members.includes(name)) gids.push(g.gid);
  } else if (policy !== SupplementalGroupsPolicy.Strict) {
    throw invalid(`linux.security_context.supplemental_groups_policy ${String(policy)} is not Merge or Strict`);
  }
  (req.supplementalGroups ?? []).forEach((g, i) => gids.push(toId(g, `linux.security_context.supplemental_groups[${i}]`)));

  const out: ResolvedUser = { uid: user.uid, gid: user.gid, additionalGids: [...new Set(gids)] };
  if (user.username !== undefined) out.username = user.username;
  return out;
}
