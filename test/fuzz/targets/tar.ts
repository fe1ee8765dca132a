// Fuzz target: layer tar headers and PAX records (src/images/unpack): bytes through tar-stream
// with Berth's PAX capture and caps, each header through toEntry and the entry-name rules, as the
// unpack worker does before it touches the disk; and raw PAX record blocks through parsePax.
import type { EventEmitter } from "node:events";
import tar, { type Header } from "tar-stream";
import { toEntry } from "../../../src/images/unpack/entry.js";
import { cleanName, splitPath, whiteoutOf } from "../../../src/images/unpack/names.js";
import { capturePax, parsePax } from "../../../src/images/unpack/pax.js";
import { chunks, holds, parseOrRefuse, refusal, split } from "../check.js";

const MAX_HEADER = 16 * 1024;
const MAX_PATH = 4096;
const MAX_XATTRS = 8;
// Times Node's utimes and the kernel accept (seconds): past int64 nanoseconds they fail.
const MAX_TIME = 2 ** 53;

/** Checks what the applier would get from this header; a refusal is thrown, as the applier throws it. */
function checkHeader(header: Header, records: ReturnType<ReturnType<typeof capturePax>["take"]>): void {
  const e = toEntry(header, records, () => undefined, MAX_XATTRS, "layer sha256:fuzz");
  holds(Number.isSafeInteger(e.size) && e.size >= 0, `entry size ${e.size}`);
  holds(e.attrs.mode >= 0 && e.attrs.mode <= 0o7777, `mode ${e.attrs.mode}`);
  holds(Number.isSafeInteger(e.attrs.uid) && Number.isSafeInteger(e.attrs.gid), "uid/gid not integers");
  for (const t of [e.attrs.atime, e.attrs.mtime]) holds(Number.isFinite(t) && Math.abs(t) <= MAX_TIME, `time ${t} would fail utimes`);
  holds(e.attrs.xattrs.length <= MAX_XATTRS, `${e.attrs.xattrs.length} xattrs over the cap`);
  holds(e.attrs.xattrs.every(([k]) => !k.startsWith("trusted.overlay.")), "an overlayfs xattr got through");
  const rel = parseOrRefuse(() => cleanName(e.name, MAX_PATH));
  if (rel === undefined || rel === "") return;
  const parts = rel.split("/");
  holds(!rel.startsWith("/") && parts.every((p) => p !== "" && p !== "." && p !== ".."), `cleaned name ${JSON.stringify(rel)} escapes`);
  const { parent, base } = splitPath(rel);
  holds((parent === "" ? base : `${parent}/${base}`) === rel, "splitPath does not round-trip");
  const wo = parseOrRefuse(() => whiteoutOf(e.name, base));
  if (wo?.kind === "file") holds(wo.name !== "" && wo.name !== "." && wo.name !== ".." && !wo.name.includes("/"), `whiteout names ${JSON.stringify(wo.name)}`);
  if (e.type === "link") parseOrRefuse(() => cleanName(e.linkname, MAX_PATH, "hardlink target"));
}

export async function fuzz(data: Buffer): Promise<void> {
  const { sel, rest } = split(data);
  if (sel & 0x80) {
    const recs = parseOrRefuse(() => parsePax(rest));
    if (recs) holds(recs.size <= rest.length / 4 + 1, `${recs.size} PAX records from ${rest.length} bytes`);
    return;
  }
  const ex = tar.extract();
  const pax = capturePax(ex, MAX_HEADER, () => undefined);
  let failure: unknown;
  const check = (err: unknown): void => {
    try {
      // tar-stream refuses a broken archive with a plain Error; Berth's caps with a BerthError.
      refusal(err, [Error]);
    } catch (e) {
      failure ??= e;
    }
  };
  // As src/images/unpack/layer-apply.ts: each entry handled in an async step that consumes its
  // data; a refusal fails the extract through next(err), its unread stream with an error listener.
  ex.on("entry", (header: Header, stream: AsyncIterable<unknown>, next: (err?: Error) => void) => {
    (stream as unknown as EventEmitter).on("error", () => undefined);
    const records = pax.take();
    (async () => {
      checkHeader(header, records);
      for await (const _ of stream);
    })().then(
      () => next(),
      (err: unknown) => {
        check(err);
        next(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
  ex.on("error", check);
  const closed = new Promise<void>((resolve) => ex.once("close", resolve));
  try {
    for (const c of chunks(rest, sel & 0x7f)) ex.write(c);
    ex.end(null);
  } catch (e) {
    check(e);
    ex.destroy();
  }
  await closed;
  if (failure) throw failure;
}
