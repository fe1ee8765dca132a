// Tests of the HTTP/2 byte-stream rewriter: only header blocks change, across CONTINUATION, PADDED
// and PRIORITY framing, for any chunking; and Node's own HPACK decoder accepts crictl's fixed bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { join } from "node:path";
import { H2AuthorityRewriter } from "../../../src/h2-front/frame-rewriter.js";
import {
  CONTINUATION,
  CRICTL_STOPP,
  CRICTL_STOPP_AUTHORITY,
  DATA,
  END_HEADERS,
  END_STREAM,
  HEADERS,
  PADDED,
  PREFACE,
  PRIORITY,
  frame,
  indexed,
  literal,
} from "./h2-kit.js";

const SOCK = "/run/berth/berth.sock";
const FIXED = "-run-berth-berth.sock";
const SETTINGS = frame(0x4, 0, 0, Buffer.from("000300000064", "hex"));

function block(authority: string, huffman: boolean): Buffer {
  return Buffer.concat([indexed(3), indexed(6), literal(4, "/runtime.v1.RuntimeService/Version", true), literal(1, authority, huffman)]);
}

/** A connection exercising every framing case; built with `authority`, so with FIXED it is the expected output. */
function connection(authority: string): Buffer {
  const b1 = block(authority, true);
  const b2 = block(authority, false);
  const b3 = block(authority, true);
  const pad = Buffer.alloc(7, 0);
  return Buffer.concat([
    PREFACE,
    SETTINGS,
    frame(HEADERS, END_HEADERS, 1, b1),
    // A DATA frame whose payload looks like a header block with the path: never touched.
    frame(DATA, END_STREAM, 1, Buffer.concat([Buffer.from([0, 0, 0, 0, 5]), block(SOCK, false)])),
    // One block split over HEADERS + 2 CONTINUATIONs, cut inside the authority value.
    frame(HEADERS, 0, 3, b2.subarray(0, b2.length - 9)),
    frame(CONTINUATION, 0, 3, b2.subarray(b2.length - 9, b2.length - 4)),
    frame(CONTINUATION, END_HEADERS | END_STREAM, 3, b2.subarray(b2.length - 4)),
    // PADDED + PRIORITY: pad length, 5 priority bytes, fragment, padding.
    frame(
      HEADERS,
      END_HEADERS | END_STREAM | PADDED | PRIORITY,
      5,
      Buffer.concat([Buffer.from([pad.length]), Buffer.from("0000000310", "hex"), b3, pad]),
    ),
    frame(0x8, 0, 0, Buffer.from("00010000", "hex")), // WINDOW_UPDATE
  ]);
}

function rewrite(input: Buffer, sizes: (i: number) => number): Buffer {
  const r = new H2AuthorityRewriter();
  const src = Buffer.from(input);
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < src.length; i++) {
    const n = Math.min(sizes(i), src.length - at);
    out.push(...r.push(Buffer.from(src.subarray(at, at + n))));
    at += n;
  }
  out.push(...r.end());
  return Buffer.concat(out);
}

test("rewrites authorities in HEADERS, CONTINUATION and PADDED/PRIORITY frames and nothing else", () => {
  const input = connection(SOCK);
  const want = connection(FIXED);
  assert.equal(input.length, want.length);
  assert.notDeepEqual(input, want);
  assert.deepEqual(rewrite(input, () => input.length), want);
});

test("any chunking gives the same output: one byte at a time, odd sizes, 9-byte frame heads split", () => {
  const input = connection(SOCK);
  const want = connection(FIXED);
  assert.deepEqual(rewrite(input, () => 1), want);
  for (const k of [2, 3, 7, 9, 10, 64]) assert.deepEqual(rewrite(input, () => k), want, `chunks of ${k}`);
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 40 + 1;
  for (let round = 0; round < 50; round++) assert.deepEqual(rewrite(input, random), want, `round ${round}`);
});

test("bytes go out as soon as they are known: only an unfinished header block is held", () => {
  const r = new H2AuthorityRewriter();
  const b = block(SOCK, true);
  const lead = Buffer.concat([PREFACE, SETTINGS, frame(DATA, 0, 1, Buffer.from("hello"))]);
  const h = frame(HEADERS, 0, 3, b.subarray(0, 10));
  assert.deepEqual(Buffer.concat(r.push(Buffer.concat([lead, h.subarray(0, 12)]))), Buffer.concat([lead, h.subarray(0, 9)]));
  assert.deepEqual(r.push(Buffer.from(h.subarray(12))), []);
  const c = frame(CONTINUATION, END_HEADERS, 3, b.subarray(10));
  const out = Buffer.concat([...r.push(Buffer.from(c)), ...r.push(frame(DATA, 0, 3, Buffer.from("x")))]);
  const want = block(FIXED, true);
  assert.deepEqual(
    out,
    Buffer.concat([h.subarray(9), frame(CONTINUATION, END_HEADERS, 3, want.subarray(10)), frame(DATA, 0, 3, Buffer.from("x"))]),
  );
  // A partial frame head is forwarded at once too (it never changes).
  assert.deepEqual(Buffer.concat(r.push(Buffer.from([0, 0]))), Buffer.from([0, 0]));
});

test("protocol violations and non-HTTP/2 input pass through unchanged", () => {
  const notH2 = Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + SOCK);
  assert.deepEqual(rewrite(notH2, () => 5), notH2);
  const b = block(SOCK, false);
  // A PING between HEADERS and its CONTINUATION: the rewriter stops touching anything.
  const interleaved = Buffer.concat([
    PREFACE,
    frame(HEADERS, 0, 1, b.subarray(0, 5)),
    frame(0x6, 0, 0, Buffer.alloc(8)),
    frame(CONTINUATION, END_HEADERS, 1, b.subarray(5)),
    frame(HEADERS, END_HEADERS, 3, b),
  ]);
  assert.deepEqual(rewrite(interleaved, () => 3), interleaved);
  // Padding longer than the frame.
  const badPad = Buffer.concat([PREFACE, frame(HEADERS, END_HEADERS | PADDED, 1, Buffer.concat([Buffer.from([200]), b]))]);
  assert.deepEqual(rewrite(badPad, () => 4), badPad);
  // A cut connection: the held bytes still come out at the end.
  const cut = Buffer.concat([PREFACE, frame(HEADERS, 0, 1, b)]);
  assert.deepEqual(rewrite(cut, () => 1000), cut);
});

test("Node's HTTP/2 server decodes crictl's rewritten requests with the fixed authority", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-h2-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const replay = async (bytes: Buffer): Promise<{ authorities: string[]; resets: number }> => {
    const authorities: string[] = [];
    const server = http2.createServer();
    server.on("stream", (s, headers) => {
      authorities.push(String(headers[":authority"]));
      s.respond({ ":status": 200 });
      s.end();
    });
    const path = join(dir, `s${Math.random()}.sock`);
    await new Promise<void>((res) => server.listen(path, res));
    try {
      const c = net.connect(path);
      let got = Buffer.alloc(0);
      c.on("data", (d: Buffer) => (got = Buffer.concat([got, d])));
      c.on("error", () => {});
      c.write(bytes);
      // Four requests: each is either served or refused with RST_STREAM.
      for (let i = 0; i < 500 && authorities.length + countResets(got) < 4; i++) await delay(10);
      c.destroy();
      const resets = countResets(got);
      return { authorities, resets };
    } finally {
      await new Promise((res) => server.close(res));
    }
  };
  const fixed = await replay(rewrite(CRICTL_STOPP, () => 17));
  assert.deepEqual(fixed.authorities, Array(4).fill(CRICTL_STOPP_AUTHORITY.replaceAll("/", "-")));
  assert.equal(fixed.resets, 0);
  const raw = await replay(CRICTL_STOPP);
  assert.deepEqual(raw.authorities, []);
  assert.equal(raw.resets, 4); // the bug: every request refused with RST_STREAM
});

function countResets(b: Buffer): number {
  let n = 0;
  for (let at = 0; at + 9 <= b.length; at += 9 + b.readUIntBE(at, 3)) if (b[at + 3] === 0x3) n++;
  return n;
}
