// Tests of the HPACK Huffman table and decoder: RFC 7541 examples, a round trip of every octet,
// and rejection of the malformed endings RFC 7541 §5.2 forbids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanEncode, walkHuffman, writeBits } from "../../../src/h2-front/hpack-huffman.js";
import { huffmanDecode } from "./h2-kit.js";

test("the table has 257 codes (256 octets + EOS) of 5..30 bits", () => {
  assert.equal(HUFFMAN_CODES.length, 257);
  assert.equal(HUFFMAN_LENGTHS.length, 257);
  for (let s = 0; s < 257; s++) {
    const len = HUFFMAN_LENGTHS[s] ?? 0;
    assert.ok(len >= 5 && len <= 30, `symbol ${s}`);
    assert.ok((HUFFMAN_CODES[s] ?? 0) < 2 ** len, `symbol ${s} code fits its length`);
  }
  assert.equal(HUFFMAN_CODES[256], 0x3fffffff);
});

test("encodes the RFC 7541 Appendix C.4 examples", () => {
  assert.equal(huffmanEncode(Buffer.from("www.example.com")).toString("hex"), "f1e3c2e5f23a6ba0ab90f4ff");
  assert.equal(huffmanEncode(Buffer.from("no-cache")).toString("hex"), "a8eb10649cbf");
  assert.equal(huffmanEncode(Buffer.from("custom-value")).toString("hex"), "25a849e95bb8e8b4bf");
});

test("round trip: every octet, alone and all together, decodes back", () => {
  const all = Buffer.from([...Array(256).keys()]);
  assert.deepEqual(Buffer.from(huffmanDecode(huffmanEncode(all)), "latin1"), all);
  for (let o = 0; o < 256; o++) {
    const one = Buffer.from([o]);
    const enc = huffmanEncode(one);
    assert.equal(enc.length, Math.ceil((HUFFMAN_LENGTHS[o] ?? 0) / 8));
    assert.deepEqual(Buffer.from(huffmanDecode(enc), "latin1"), one, `octet ${o}`);
  }
  const text = "/run/containerd/containerd.sock:authority é ~!@#$%^&*()";
  assert.equal(huffmanDecode(huffmanEncode(Buffer.from(text, "latin1"))), text);
});

test("reports each symbol's bit offset and code length", () => {
  const enc = huffmanEncode(Buffer.from("a/b"));
  const seen: [number, number, number][] = [];
  assert.ok(walkHuffman(enc, 0, enc.length, (s, bit, len) => seen.push([s, bit, len])));
  assert.deepEqual(seen, [
    [0x61, 0, 5],
    [0x2f, 5, 6],
    [0x62, 11, 6],
  ]);
});

test("rejects padding over 7 bits, padding with a zero, and EOS inside a string", () => {
  const enc = huffmanEncode(Buffer.from("abc")); // 5+6+5 = 16 bits, no padding
  assert.ok(walkHuffman(enc, 0, enc.length, () => {}));
  const longPad = Buffer.concat([enc, Buffer.from([0xff])]);
  assert.equal(walkHuffman(longPad, 0, longPad.length, () => {}), false);
  const a = huffmanEncode(Buffer.from("a")); // 00011 then 111 padding
  assert.equal(a[0], 0x1f);
  assert.equal(walkHuffman(Buffer.from([0x1e]), 0, 1, () => {}), false); // padding 110
  const eos = Buffer.alloc(4, 0xff); // 30 ones = EOS, then 2 padding ones
  assert.equal(walkHuffman(eos, 0, 4, () => {}), false);
});

test("writeBits overwrites exactly the given bits", () => {
  const b = Buffer.from([0xff, 0x00]);
  writeBits(b, 0, 5, 0b0101, 4);
  assert.deepEqual([...b], [0b11111010, 0b10000000]);
});
