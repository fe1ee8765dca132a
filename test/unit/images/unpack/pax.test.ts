// Raw PAX record parsing: values stay bytes (binary xattrs), malformed records are refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePax } from "../../../../src/images/unpack/pax.js";

const record = (key: string, value: Buffer): Buffer => {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from("\n")]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return Buffer.concat([Buffer.from(String(len)), body]);
};

test("parsePax keeps binary values and UTF-8 keys", () => {
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff, 0x0a, 0x3d]);
  const m = parsePax(Buffer.concat([record("path", Buffer.from("dïr/f")), record("SCHILY.xattr.security.capability", cap), Buffer.alloc(20)]));
  assert.equal(m.get("path")?.toString(), "dïr/f");
  assert.deepEqual(m.get("SCHILY.xattr.security.capability"), cap);
});

test("parsePax refuses malformed records", () => {
  assert.throws(() => parsePax(Buffer.from("99 path=a\n")), /malformed PAX header record at byte 0/);
  assert.throws(() => parsePax(Buffer.from("x path=a\n")), /malformed/);
  assert.throws(() => parsePax(Buffer.from("10 path=ab!")), /malformed/);
  assert.throws(() => parsePax(Buffer.from("9 pathab\n")), /without "="/);
});
