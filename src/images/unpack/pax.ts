// Keeps each tar entry's raw PAX records: tar-stream decodes them as UTF-8 text, which corrupts
// binary xattr values (security.capability), and gives no hook to cap their size before use.
import type { Extract } from "tar-stream";
import { internal, invalid } from "../../errors.js";

export type PaxRecords = ReadonlyMap<string, Buffer>;

/** Parses "<len> <key>=<value>\n" records; values stay bytes. */
export function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let at = 0;
  while (at < buf.length) {
    if (buf[at] === 0) break; // NUL padding after the last record
    const space = buf.indexOf(0x20, at);
    const len = space < 0 ? NaN : Number(buf.toString("latin1", at, space));
    if (!Number.isSafeInteger(len) || len <= space - at + 1 || at + len > buf.length || buf[at + len - 1] !== 0x0a) {
      throw invalid(`layer has a malformed PAX header record at byte ${at}`);
    }
    const rec = buf.subarray(space + 1, at + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw invalid(`layer has a PAX header record without "=" at byte ${at}`);
    out.set(rec.toString("utf8", 0, eq), Buffer.from(rec.subarray(eq + 1)));
    at += len;
  }
  return out;
}

interface ExtractInternals {
  _decodeLongHeader?: (buf: Buffer) => void;
  _header?: { type?: string | null } | null;
  _paxGlobal?: unknown;
}

/**
 * Wraps tar-stream's (private, pinned 3.2.2) long-header decoder: refuses PAX and GNU long
 * headers larger than maxHeaderBytes, and remembers the raw records of the next entry.
 * take() returns the records for the entry just emitted. PAX global headers are ignored, as
 * containerd and moby ignore them (Go's archive/tar keeps no global state): applying their
 * records (xattrs) to every later entry would let one header multiply into millions of xattrs.
 */
export function capturePax(ex: Extract, maxHeaderBytes: number, warn: (w: string) => void): { take(): PaxRecords | null } {
  const inner = ex as unknown as ExtractInternals;
  const original = inner._decodeLongHeader;
  if (typeof original !== "function" || !("_paxGlobal" in inner)) {
    throw internal("tar-stream internals changed (_decodeLongHeader or _paxGlobal missing): check the pinned version");
  }
  let local: Map<string, Buffer> | null = null;
  let warned = false;
  inner._decodeLongHeader = function (this: ExtractInternals, buf: Buffer): void {
    const type = this._header?.type ?? "long header";
    if (buf.length > maxHeaderBytes) {
      throw invalid(`layer has a ${type} of ${buf.length} bytes, over the limit of ${maxHeaderBytes}`);
    }
    if (type === "pax-header") local = parsePax(buf);
    original.call(this, buf);
    if (type === "pax-global-header") {
      // tar-stream would merge it into every later entry that has local records; drop it.
      this._paxGlobal = null;
      if (!warned) warn("layer has a PAX global header; ignored, as containerd does");
      warned = true;
    }
  };
  return {
    take(): PaxRecords | null {
      const mine = local;
      local = null;
      return mine;
    },
  };
}
