// Turns a tar-stream header plus its raw PAX records into the applier's Entry, refusing
// types and fields Berth does not apply (sparse files, header-only entries that carry data).
import type { Header } from "tar-stream";
import { overBudget } from "./budget.js";
import { LIMIT_KEYS } from "./limits.js";
import { entryError } from "./names.js";
import type { PaxRecords } from "./pax.js";
import type { Warn } from "./fsops.js";
import type { Entry, EntryType } from "./writer.js";

const TYPES: Readonly<Record<string, EntryType>> = {
  file: "file",
  "contiguous-file": "file",
  directory: "dir",
  symlink: "symlink",
  link: "link",
  "character-device": "char",
  "block-device": "block",
  fifo: "fifo",
};

const XATTR_PREFIX = "SCHILY.xattr.";
// overlayfs reads these from the layer directories; a layer must not forge them (opaque dirs
// come only from .wh..wh..opq entries).
const FORBIDDEN_XATTR_PREFIX = "trusted.overlay.";
// chown(2) takes (uid_t)-1 as "leave unchanged".
const MAX_ID = 0xfffffffe;

// Seconds utimes takes: a PAX time of 20 digits made futimes fail with EINVAL, and of 309 digits
// (Infinity) with a TypeError, failing the pull (seen writing the tar fuzz target's time invariant).
const MAX_TIME = 2 ** 53;

/** A PAX time in seconds; undefined when absent, malformed or out of range (the header's is used). */
function paxTime(pax: PaxRecords | null, key: string, name: string, warn: Warn): number | undefined {
  const v = pax?.get(key)?.toString("latin1");
  if (v === undefined || !/^-?\d+(\.\d+)?$/.test(v)) return undefined;
  const t = Number(v);
  if (Math.abs(t) <= MAX_TIME) return t;
  warn(`layer entry ${JSON.stringify(name)} has PAX ${key} ${v.slice(0, 40)}${v.length > 40 ? "…" : ""}, out of range; ignored`);
  return undefined;
}

/** `maxXattrs` caps the entry's xattrs; `what` names the layer in that refusal. */
export function toEntry(h: Header, pax: PaxRecords | null, warn: Warn, maxXattrs: number, what: string): Entry {
  const name = h.name;
  // tar-stream's types say `type` is always known; at run time it is null for other typeflags.
  const raw = h.type as string | null;
  const type = raw === null ? undefined : TYPES[raw];
  if (type === undefined) throw entryError(name, `unsupported tar entry type "${raw ?? "unknown"}"`);
  const size = h.size ?? 0;
  if (type !== "file" && size !== 0) throw entryError(name, `a ${h.type} entry must not carry data (size ${size})`);
  const uid = h.uid ?? 0;
  const gid = h.gid ?? 0;
  for (const [what, id] of [["uid", uid], ["gid", gid]] as const) {
    if (!Number.isSafeInteger(id) || id < 0 || id > MAX_ID) throw entryError(name, `${what} ${id} is out of range`);
  }
  const headerTime = h.mtime ? h.mtime.getTime() / 1000 : 0;
  const mtime = paxTime(pax, "mtime", name, warn) ?? (Number.isFinite(headerTime) ? headerTime : 0);
  const atime = paxTime(pax, "atime", name, warn) ?? mtime;
  const xattrs: [string, Buffer][] = [];
  for (const [key, value] of pax ?? []) {
    if (!key.startsWith(XATTR_PREFIX)) continue;
    const x = key.slice(XATTR_PREFIX.length);
    if (x.startsWith(FORBIDDEN_XATTR_PREFIX)) {
      warn(`layer entry ${JSON.stringify(name)} sets overlayfs xattr ${x} itself; ignored`);
      continue;
    }
    xattrs.push([x, value]);
    if (xattrs.length > maxXattrs) {
      throw overBudget(what, `entry ${JSON.stringify(name)} has more than ${maxXattrs} extended attributes`, LIMIT_KEYS.maxXattrsPerEntry);
    }
  }
  return {
    name,
    type,
    size,
    linkname: h.linkname ?? "",
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
    attrs: { uid, gid, mode: (h.mode ?? 0) & 0o7777, atime, mtime, xattrs },
  };
}
