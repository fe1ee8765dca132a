// Byte-exact SPDY/3.1 frames: the layouts Go's spdystream reads, the SPDY/3 dictionary (its
// Adler-32 is what Go's zlib reader checks), header blocks, and the incremental parser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateSync, deflateSync } from "node:zlib";
import { SPDY3_DICTIONARY } from "../../../src/streaming/spdy/dictionary.js";
import { dataFrame, goAwayFrame, pingFrame, rstStreamFrame, synReplyFrame, synStreamFrame, windowUpdateFrame, settingsFrame } from "../../../src/streaming/spdy/frames.js";
import { HeaderCodec, decodeHeaderBlock, encodeHeaderBlock, HeaderBlockError } from "../../../src/streaming/spdy/header-block.js";
import { FrameParser, SpdyProtocolError } from "../../../src/streaming/spdy/parser.js";

const hex = (b: Buffer): string => b.toString("hex");

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

test("the SPDY/3 dictionary is 1423 bytes with Adler-32 0xe3c6a7c2", () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(adler32(SPDY3_DICTIONARY).toString(16), "e3c6a7c2");
  assert.equal(hex(SPDY3_DICTIONARY.subarray(0, 11)), "000000076f7074696f6e73");
  assert.equal(SPDY3_DICTIONARY.subarray(-7).toString("latin1"), ",enq=0.");
});

test("control frames are laid out as SPDY/3 says", () => {
  assert.equal(hex(rstStreamFrame(5, 5)), "8003000300000008" + "00000005" + "00000005");
  assert.equal(hex(pingFrame(1)), "8003000600000004" + "00000001");
  assert.equal(hex(goAwayFrame(3, 0)), "8003000700000008" + "00000003" + "00000000");
  assert.equal(hex(windowUpdateFrame(1, 65536)), "8003000900000008" + "00000001" + "00010000");
  assert.equal(hex(settingsFrame([[4, 100]])), "800300040000000c" + "00000001" + "00000004" + "00000064");
  assert.equal(hex(synReplyFrame(7, Buffer.from("abcd"))), "8003000200000008" + "00000007" + "61626364");
  assert.equal(hex(synReplyFrame(7, Buffer.from("ab"), true)), "8003000201000006" + "00000007" + "6162");
  // SYN_STREAM: id, associated id 0, priority 3 in the top bits, slot 0, then the block.
  assert.equal(hex(synStreamFrame(1, Buffer.from("x"), { priority: 3 })), "800300010000000b" + "00000001" + "00000000" + "6000" + "78");
  assert.equal(hex(synStreamFrame(3, Buffer.alloc(0), { fin: true })), "800300010100000a" + "00000003" + "00000000" + "0000");
});

test("data frames carry the stream id, FIN and the payload", () => {
  assert.equal(hex(dataFrame(1, Buffer.from("hi"), true)), "0000000101000002" + "6869");
  assert.equal(hex(dataFrame(0x7fffffff, Buffer.alloc(0))), "7fffffff00000000");
});

test("a header block is a count, then length-prefixed lowercase names and values", () => {
  const block = encodeHeaderBlock({ StreamType: "error", port: "80" });
  assert.equal(hex(block), "00000002" + "0000000a" + Buffer.from("streamtype").toString("hex") + "00000005" + Buffer.from("error").toString("hex") + "00000004" + Buffer.from("port").toString("hex") + "00000002" + "3830");
  assert.deepEqual({ ...decodeHeaderBlock(block, 10) }, { streamtype: "error", port: "80" });
});

test("a header block that lies about its lengths or has too many pairs is refused", () => {
  assert.throws(() => decodeHeaderBlock(Buffer.from("00000001000000ff61", "hex"), 10), HeaderBlockError);
  assert.throws(() => decodeHeaderBlock(Buffer.from("000000", "hex"), 10), HeaderBlockError);
  assert.throws(() => decodeHeaderBlock(Buffer.from("ffffffff", "hex"), 64), /at most 64/);
});

test("compressed blocks start with a zlib header naming the SPDY dictionary (FDICT, level 9) and use one context", async () => {
  const codec = new HeaderCodec({ maxHeaderBytes: 4096, maxHeaderPairs: 16 });
  const first = await codec.compress({ streamtype: "error" });
  // CMF 0x78, FLG 0xf9 (FLEVEL 3, FDICT), then the dictionary id.
  assert.equal(hex(first.subarray(0, 6)), "78f9e3c6a7c2");
  // Z_SYNC_FLUSH: each block ends with an empty stored block.
  assert.equal(hex(first.subarray(-4)), "0000ffff");
  const second = await codec.compress({ streamtype: "stdout" });
  assert.notEqual(hex(second.subarray(0, 2)), "78f9", "the second block continues the same stream, no new zlib header");
  // A peer's inflate context reads both in order.
  const peer = new HeaderCodec({ maxHeaderBytes: 4096, maxHeaderPairs: 16 });
  assert.deepEqual({ ...(await peer.decompress(first)) }, { streamtype: "error" });
  assert.deepEqual({ ...(await peer.decompress(second)) }, { streamtype: "stdout" });
  // And a one-shot zlib with the dictionary agrees on the first block's content.
  assert.deepEqual(inflateSync(first, { dictionary: SPDY3_DICTIONARY, finishFlush: 2 }), encodeHeaderBlock({ streamtype: "error" }));
  codec.close();
  peer.close();
});

test("an inflated header block larger than the cap is refused (zlib bomb)", async () => {
  const bomb = deflateSync(Buffer.concat([Buffer.from("00000001000fffff", "hex"), Buffer.alloc(0xfffff + 8)]), { dictionary: SPDY3_DICTIONARY, finishFlush: 2 });
  const codec = new HeaderCodec({ maxHeaderBytes: 64 * 1024, maxHeaderPairs: 16 });
  assert.ok(bomb.length < 4096, "the bomb is small on the wire");
  await assert.rejects(codec.decompress(bomb), /exceeds 65536 bytes/);
  codec.close();
});

test("garbage instead of a compressed block is an error, not a crash", async () => {
  const codec = new HeaderCodec({ maxHeaderBytes: 4096, maxHeaderPairs: 16 });
  await assert.rejects(codec.decompress(Buffer.from("this is not zlib")), HeaderBlockError);
  codec.close();
});

test("the parser returns control frames whole and DATA in slices as bytes arrive", () => {
  const p = new FrameParser(1024);
  const wire = Buffer.concat([pingFrame(2), dataFrame(1, Buffer.from("hello"), true), rstStreamFrame(1, 5)]);
  const items = [];
  // One byte at a time: the worst fragmentation a socket can produce.
  for (const byte of wire) {
    p.append(Buffer.from([byte]));
    for (let it = p.next(); it; it = p.next()) items.push(it);
  }
  assert.equal(items[0]?.kind, "control");
  const data = items.filter((i) => i.kind === "data");
  assert.equal(Buffer.concat(data.map((d) => (d.kind === "data" ? d.chunk : Buffer.alloc(0)))).toString(), "hello");
  assert.deepEqual(data.map((d) => d.kind === "data" && d.fin), [false, false, false, false, true]);
  const last = items.at(-1);
  assert.ok(last?.kind === "control" && last.type === 3);
});

test("the parser refuses other SPDY versions and control frames over the cap", () => {
  const v2 = new FrameParser(1024);
  v2.append(Buffer.from("8002000600000004" + "00000001", "hex"));
  assert.throws(() => v2.next(), SpdyProtocolError);
  const big = new FrameParser(1024);
  big.append(Buffer.from("80030001" + "00ffffff", "hex"));
  assert.throws(() => big.next(), /exceeds the 1024-byte limit/);
});

// What crictl 1.26.1 (client-go over moby/spdystream, Go 1.19 zlib) sent for `exec -i`, captured
// from the wire by crictl-spdy.test.ts: four SYN_STREAMs, then stdin's DATA and its FIN.
const GO_EXEC_I =
  "80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff" +
  "800300010000001700000003000000000000c22e555c92929907000000ffff" +
  "800300010000001900000005000000000000c22ac5565c92925f5a02000000ffff" +
  "800300010000001500000007000000000000c229975a5404000000ffff" +
  "000000030000000e68656c6c6f2066726f6d20476f0a" +
  "0000000301000000";

test("frames captured from Go's spdystream decode: stream ids, header blocks in one zlib context, DATA and FIN", async () => {
  const p = new FrameParser(1024);
  p.append(Buffer.from(GO_EXEC_I, "hex"));
  const codec = new HeaderCodec({ maxHeaderBytes: 4096, maxHeaderPairs: 16 });
  const seen: string[] = [];
  for (let it = p.next(); it; it = p.next()) {
    if (it.kind === "control") {
      assert.equal(it.type, 1);
      const h = await codec.decompress(it.payload.subarray(10));
      seen.push(`syn ${it.payload.readUInt32BE(0)} ${h["streamtype"]}`);
    } else seen.push(`data ${it.streamId} ${JSON.stringify(it.chunk.toString())}${it.fin ? " fin" : ""}`);
  }
  codec.close();
  assert.deepEqual(seen, ["syn 1 error", "syn 3 stdin", "syn 5 stdout", "syn 7 stderr", 'data 3 "hello from Go\\n"', 'data 3 "" fin']);
});
