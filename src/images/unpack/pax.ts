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
}

/**
 * Wraps tar-stream's (private, pinned 3.2.2) long-header decoder: refuses PAX and GNU long
 * headers larger than maxHeaderBytes, and remembers the raw records of the next entry.
 * take() returns the records for the entry just emitted (global records merged under local).
 */
export function capturePax(ex: Extract, maxHeaderBytes: number): { take(): PaxRecords | null } {
  const inner = ex as unknown as ExtractInternals;
  const original = inner._decodeLongHeader;
  if (typeof original !== "function") {
    throw internal("tar-stream internals changed (_decodeLongHeader missing): check the pinned version");
  }
  let global: Map<string, Buffer> | null = null;
  let local: Map<string, Buffer> | null = null;
  inner._decodeLongHeader = function (this: ExtractInternals, buf: Buffer): void {
    const type = this._header?.type ?? "long header";
    if (buf.length > maxHeaderBytes) {
      throw invalid(`layer has a ${type} of ${buf.length} bytes, over the limit of ${maxHeaderBytes}`);
    }
    if (type === "pax-header") local = parsePax(buf);
    else if (type === "pax-global-header") global = parsePax(buf);
    original.call(this, buf);
  };
  return {
    take(): PaxRecords | null {
      const mine = local;
      local = null;
      if (global === null) return mine;
      if (mine === null) return global;
      return new Map([...global, ...mine]);
    },
  };
}
