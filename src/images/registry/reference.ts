// Image references parsed and normalised the way docker and containerd do (distribution's
// reference grammar + ParseDockerRef): "busybox" is docker.io/library/busybox:latest.
import { invalid } from "../../errors.js";

export const DEFAULT_DOMAIN = "docker.io";
export const DEFAULT_TAG = "latest";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const NAME_TOTAL_LENGTH_MAX = 255;

export interface Reference {
  /** Registry host with optional port, e.g. "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** Repository path within the registry, e.g. "library/busybox". */
  path: string;
  /** domain + "/" + path, e.g. "docker.io/library/busybox". */
  name: string;
  /** Set when given, or "latest" when neither tag nor digest was given. */
  tag?: string;
  /** "sha256:<hex>" when pinned; a pull then goes by digest and the tag is informational. */
  digest?: string;
  /** The input named no registry ("busybox", "user/app"): aliases may apply. */
  shortName: boolean;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_SHAPE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const IMAGE_ID = /^[a-f0-9]{64}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

const bad = (input: string, why: string): Error => invalid(`image reference "${input}": ${why}`);

/** Throws INVALID_ARGUMENT unless `digest` is a supported, well-formed digest ("sha256:<64 hex>"). */
export function validateDigest(digest: string, context = "digest"): void {
  if (!DIGEST_SHAPE.test(digest)) throw invalid(`${context} "${digest}" is not a digest (want "sha256:<64 lowercase hex>")`);
  const colon = digest.indexOf(":");
  const alg = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const want = DIGEST_HEX_LENGTH[alg];
  if (want === undefined) throw invalid(`${context} "${digest}": unsupported digest algorithm "${alg}" (sha256 or sha512)`);
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) {
    throw invalid(`${context} "${digest}": ${alg} needs ${want} lowercase hex characters`);
  }
}

/** Splits "name" into registry domain and remainder as docker's splitDockerDomain does. */
function splitDomain(name: string): { domain: string; remainder: string; shortName: boolean } {
  const i = name.indexOf("/");
  const first = i < 0 ? "" : name.slice(0, i);
  const isDomain = i >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first.toLowerCase() !== first);
  if (!isDomain) {
    const remainder = name.includes("/") ? name : `library/${name}`;
    return { domain: DEFAULT_DOMAIN, remainder, shortName: true };
  }
  let domain = first;
  let remainder = name.slice(i + 1);
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = `library/${remainder}`;
  return { domain, remainder, shortName: false };
}

/**
 * Parses and normalises an image reference: `name`, `name:tag`, `name@digest`, `name:tag@digest`.
 * Short names get docker.io (and library/ for one component); no tag and no digest means "latest".
 */
export function parseReference(input: string): Reference {
  if (input === "") throw invalid("image reference is empty");
  if (input.length > 4096 || /\s/.test(input)) throw bad(input, "contains white space or is too long");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      validateDigest(digest);
    } catch (err) {
      throw bad(input, err instanceof Error ? err.message : String(err));
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(input, `tag "${tag}" is invalid (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
  }
  if (rest === "") throw bad(input, "repository name is empty");
  if (IMAGE_ID.test(rest)) throw bad(input, "a 64-character hex string is an image ID, not a repository name");
  const { domain, remainder, shortName } = splitDomain(rest);
  if (!DOMAIN.test(domain)) throw bad(input, `registry host "${domain}" is invalid`);
  if (remainder.toLowerCase() !== remainder) throw bad(input, `repository name "${remainder}" must be lowercase`);
  for (const component of remainder.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      throw bad(input, `repository path component "${component}" is invalid (lowercase letters and digits, separated by ".", "_", "__" or "-")`);
    }
  }
  const name = `${domain}/${remainder}`;
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw bad(input, `repository name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const ref: Reference = { domain, path: remainder, name, shortName };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/** "name:tag" (tag defaults to latest). */
export function formatTagged(ref: Pick<Reference, "name" | "tag">): string {
  return `${ref.name}:${ref.tag ?? DEFAULT_TAG}`;
}

/** "name@digest". */
export function formatDigested(name: string | Pick<Reference, "name">, digest: string): string {
  return `${typeof name === "string" ? name : name.name}@${digest}`;
}

/** The full normalised form: name[:tag][@digest]. */
export function formatReference(ref: Reference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** The short form docker shows: "busybox" for docker.io/library/busybox, "user/x" for docker.io/user/x. */
export function familiarName(ref: Pick<Reference, "domain" | "path" | "name">): string {
  if (ref.domain !== DEFAULT_DOMAIN) return ref.name;
  return ref.path.startsWith("library/") && ref.path.split("/").length === 2 ? ref.path.slice(8) : ref.path;
}

/** A new reference with another name (after alias or prefix rewriting), keeping tag and digest. */
export function withName(ref: Reference, name: string): Reference {
  const parsed = parseReference(name);
  if (parsed.digest !== undefined || (parsed.tag !== undefined && name.slice(name.lastIndexOf("/")).includes(":"))) {
    throw invalid(`"${name}" must be a repository name without tag or digest`);
  }
  const out: Reference = { domain: parsed.domain, path: parsed.path, name: parsed.name, shortName: false };
  if (ref.tag !== undefined) out.tag = ref.tag;
  if (ref.digest !== undefined) out.digest = ref.digest;
  return out;
}
