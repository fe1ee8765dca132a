// Tests of the in-place :authority fix on HPACK header blocks: raw and Huffman values, every
// literal form, dynamic-table references, values left alone, and malformed blocks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HpackAuthorityFixer, fixAuthorityInHeaderBlock, isValidAuthority } from "../../../src/h2-front/hpack-authority.js";
import { HUFFMAN_LENGTHS, huffmanEncode } from "../../../src/h2-front/hpack-huffman.js";
import { huffmanDecode, indexed, literal, sizeUpdate } from "./h2-kit.js";

const SOCK = "/tmp/b1/b.sock";
const FIXED = "-tmp-b1-b.sock";
const PATH = "/runtime.v1.RuntimeService/Version";
// A request's usual opening: :method POST, :scheme http, :path (literal, indexed name 4).
const head = (huffman: boolean) => Buffer.concat([indexed(3), indexed(6), literal(4, PATH, huffman)]);

function fixed(block: Buffer): { changed: boolean; out: Buffer } {
  const out = Buffer.from(block);
  return { changed: fixAuthorityInHeaderBlock(out), out };
}

test("a raw :authority path is rewritten byte for byte, same length", () => {
  const block = Buffer.concat([head(false), literal(1, SOCK, false), literal(31, "application/grpc", false)]);
  const { changed, out } = fixed(block);
  assert.ok(changed);
  assert.equal(out.length, block.length);
  assert.deepEqual(out, Buffer.concat([head(false), literal(1, FIXED, false), literal(31, "application/grpc", false)]));
});

test("a Huffman :authority path is rewritten symbol for symbol, same bits", () => {
  const block = Buffer.concat([head(true), literal(1, SOCK, true), literal(31, "application/grpc", true)]);
  const { changed, out } = fixed(block);
  assert.ok(changed);
  assert.equal(out.length, block.length);
  // "/" (011000) became "-" (010110): the result is exactly the encoding of the fixed text.
  assert.deepEqual(out, Buffer.concat([head(true), literal(1, FIXED, true), literal(31, "application/grpc", true)]));
});

test("the authority bytes of crictl's first request become a valid authority", () => {
  // From the capture in the bug report: 41 8a <10 Huffman bytes>, i.e. :authority /tmp/cap.sock.
  const value = Buffer.from("6134d6c1075ae8393aff", "hex");
  assert.equal(huffmanDecode(value), "/tmp/cap.sock");
  const block = Buffer.concat([Buffer.from([0x83, 0x86, 0x41, 0x8a]), value]);
  const { changed, out } = fixed(block);
  assert.ok(changed);
  assert.equal(huffmanDecode(out.subarray(4)), "-tmp-cap.sock");
});

test("valid authorities are left untouched", () => {
  for (const v of ["localhost", "localhost:10010", "[::1]:443", "a.b-c_d~e!$&'()*+,;=%20@x", ""]) {
    for (const huffman of [false, true]) {
      const block = Buffer.concat([head(huffman), literal(1, v, huffman)]);
      const { changed, out } = fixed(block);
      assert.equal(changed, false, v);
      assert.deepEqual(out, block);
    }
  }
});

test("blocks of indexed fields only are left untouched", () => {
  const block = Buffer.concat([indexed(2), indexed(6), indexed(4), indexed(1)]);
  const { changed, out } = fixed(block);
  assert.equal(changed, false);
  assert.deepEqual(out, block);
});

test("every literal form is fixed: literal name, without indexing, never indexed, host", () => {
  const cases: [Buffer, Buffer][] = [
    [literal(":authority", SOCK, false), literal(":authority", FIXED, false)],
    [literal(":authority", SOCK, true), literal(":authority", FIXED, true)],
    [literal(1, SOCK, true, "without"), literal(1, FIXED, true, "without")],
    [literal(1, SOCK, false, "never"), literal(1, FIXED, false, "never")],
    [literal(":authority", SOCK, true, "never"), literal(":authority", FIXED, true, "never")],
    [literal(38, "a b", false, "without"), literal(38, "a-b", false, "without")],
    [literal("host", SOCK, true), literal("host", FIXED, true)],
  ];
  for (const [input, want] of cases) {
    const { changed, out } = fixed(Buffer.concat([head(true), input]));
    assert.ok(changed, input.toString("hex"));
    assert.deepEqual(out, Buffer.concat([head(true), want]));
  }
  // A name that only looks similar is not an authority.
  const other = Buffer.concat([head(false), literal(":authorityx", SOCK, false)]);
  assert.equal(fixed(other).changed, false);
});

test("raw non-ASCII and spaces become '-'; a Huffman symbol with no valid same-length twin leaves the value whole", () => {
  const raw = Buffer.concat([literal(1, Buffer.from("h\xe9 st", "latin1"), false)]);
  const r = fixed(raw);
  assert.ok(r.changed);
  assert.deepEqual(r.out, literal(1, "h--st", false));
  // é is a 19+ bit code; no valid authority character has a code that long.
  assert.ok((HUFFMAN_LENGTHS[0xe9] ?? 0) > 13);
  const huff = literal(1, Buffer.from("/h\xe9", "latin1"), true);
  const h = fixed(huff);
  assert.equal(h.changed, false);
  assert.deepEqual(h.out, huff);
});

test("every invalid character whose code length has a valid twin is replaced", () => {
  // Invalid symbols with a same-length valid one: space and "/" (6 bits), '"' and "?" (10), "|" (11),
  // NUL (13). "#" and ">" (12), "^" "}" (14), "<" "`" "{" (15) and all non-ASCII have none.
  const value = Buffer.from(' /"?|\0a', "latin1");
  const block = literal(1, value, true);
  const { changed, out } = fixed(block);
  assert.ok(changed);
  const got = huffmanDecode(out.subarray(block.length - huffmanEncode(value).length));
  assert.equal(got.length, value.length);
  assert.ok(isValidAuthority(Buffer.from(got, "latin1")), got);
  assert.equal(got.at(-1), "a");
  assert.equal(got[1], "-");
  for (const c of ["#", ">", "^", "}", "<", "`", "{"]) {
    const b = literal(1, `/x${c}`, true);
    const r = fixed(b);
    assert.equal(r.changed, false, c);
    assert.deepEqual(r.out, b);
  }
});

test("a literal whose name refers to a dynamic :authority entry is fixed, across blocks", () => {
  const fixer = new HpackAuthorityFixer();
  // Block 1 adds ":authority: localhost" (dynamic index 62) and "x: y" (now 62; authority 63).
  const b1 = Buffer.concat([head(true), literal(1, "localhost", true), literal("x", "y", false)]);
  assert.equal(fixer.fix(b1), false);
  // Block 2: literal without indexing, name = index 63 (the :authority entry), invalid value.
  const b2 = Buffer.concat([indexed(3), literal(63, SOCK, true, "without"), literal(62, "/not/authority", false, "without")]);
  const want = Buffer.concat([indexed(3), literal(63, FIXED, true, "without"), literal(62, "/not/authority", false, "without")]);
  assert.ok(fixer.fix(b2));
  assert.deepEqual(b2, want);
});

test("the table mirror follows eviction and size updates", () => {
  const fixer = new HpackAuthorityFixer();
  // Table size 64: ":authority: a" takes 10+1+32 = 43; "x: y" (34) evicts it.
  const b1 = Buffer.concat([sizeUpdate(64), literal(1, "a", false), literal("x", "y", false)]);
  assert.equal(fixer.fix(b1), false);
  // Index 62 is now "x" (not an authority) and 63 no longer exists.
  const b2 = literal(62, SOCK, false, "without");
  assert.equal(fixer.fix(Buffer.from(b2)), false);
  assert.equal(fixer.fix(literal(63, SOCK, false, "without")), false); // malformed: the fixer gives up
  assert.equal(fixer.fix(literal(1, SOCK, false)), false); // and stays out of the way afterwards
});

test("malformed blocks are left unchanged and never throw", () => {
  const good = Buffer.concat([head(true), literal(1, SOCK, true)]);
  const bad: Buffer[] = [
    good.subarray(0, good.length - 1), // string cut short
    Buffer.concat([good, Buffer.from([0x80])]), // index 0
    Buffer.concat([good, indexed(64)]), // the dynamic table holds two entries (62, 63)
    Buffer.concat([good, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]), // integer too large
    Buffer.concat([good, Buffer.from([0x41, 0x81, 0x00])]), // Huffman padding of zeros
    Buffer.concat([good, Buffer.from([0x41])]), // value missing
  ];
  for (const b of bad) {
    const copy = Buffer.from(b);
    assert.equal(fixAuthorityInHeaderBlock(copy), false, b.toString("hex"));
    assert.deepEqual(copy, b);
  }
  // The same block with a valid reference to the new entry is fixed.
  const ok = Buffer.concat([good, indexed(62)]);
  assert.ok(fixAuthorityInHeaderBlock(ok));
});
