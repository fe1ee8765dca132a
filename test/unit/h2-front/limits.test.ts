// Tests of the rewriter's bounds against hostile bytes: table size clamped to the server's
// SETTINGS, O(1) table eviction, header blocks capped in frames and bytes, and a fuzz of attacks.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServerCredentials } from "@grpc/grpc-js";
import { H2AuthorityRewriter, SERVER_LIMITS } from "../../../src/h2-front/frame-rewriter.js";
import { createCriServer } from "../../../src/server/grpc.js";
import { HpackAuthorityFixer } from "../../../src/h2-front/hpack-authority.js";
import { attacks, headerFrames, prng, tableBombBlock } from "../../fixtures/h2-attacks.js";
import { CONTINUATION, CRICTL_STOPP, END_HEADERS, HEADERS, PREFACE, frame, indexed, literal, sizeUpdate } from "./h2-kit.js";

const SOCK = "/run/berth/berth.sock";
const FIXED = "-run-berth-berth.sock";
const request = (authority: string) =>
  Buffer.concat([indexed(3), indexed(6), literal(4, "/runtime.v1.RuntimeService/Version", true), literal(1, authority, false, "without")]);
const MAX_HELD = (1 + SERVER_LIMITS.maxContinuations) * (9 + SERVER_LIMITS.maxFrameSize);

/** Feeds `input` in chunks of `sizes(i)` bytes; checks the held bytes stay bounded after each. */
function feed(r: H2AuthorityRewriter, input: Buffer, sizes: (i: number) => number): Buffer {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < input.length; i++) {
    const n = Math.max(1, Math.min(sizes(i), input.length - at));
    out.push(...r.push(Buffer.from(input.subarray(at, at + n))));
    // Only a block within the limits is ever held, plus a split frame head after it.
    assert.ok(r.heldBytes <= MAX_HELD + 8, `held ${r.heldBytes} bytes`);
    at += n;
  }
  return Buffer.concat(out);
}

test("a table size update above SETTINGS_HEADER_TABLE_SIZE is passed on untracked: nothing is rewritten after it", () => {
  const r = new H2AuthorityRewriter();
  const bomb = Buffer.concat([PREFACE, frame(HEADERS, END_HEADERS, 1, Buffer.concat([sizeUpdate(132_000_000), request(SOCK)]))]);
  assert.deepEqual(feed(r, bomb, () => 1000), bomb);
  assert.equal(r.rewriting, false);
  const next = frame(HEADERS, END_HEADERS, 3, request(SOCK));
  assert.deepEqual(Buffer.concat(r.push(Buffer.from(next))), next);
  // Up to the limit is fine, and the authority is still fixed.
  const ok = new H2AuthorityRewriter();
  const at = Buffer.concat([PREFACE, frame(HEADERS, END_HEADERS, 1, Buffer.concat([sizeUpdate(4096), request(SOCK)]))]);
  const want = Buffer.concat([PREFACE, frame(HEADERS, END_HEADERS, 1, Buffer.concat([sizeUpdate(4096), request(FIXED)]))]);
  assert.deepEqual(feed(ok, at, () => 7), want);
  assert.equal(ok.rewriting, true);
});

test("the table mirror never outgrows the server's table: 300,000 entries leave at most 4096 / 42", () => {
  const fixer = new HpackAuthorityFixer();
  const block = Buffer.alloc(16_000, Buffer.from([0x41, 0x00])); // ":authority: " added to the table
  for (let i = 0; i < 38; i++) {
    assert.equal(fixer.fix(Buffer.from(block)), false);
    assert.ok(fixer.tableEntries <= 4096 / 32, `${fixer.tableEntries} entries`);
  }
  assert.equal(fixer.tableEntries, Math.floor(4096 / (":authority".length + 32)));
  assert.ok(fixer.tracking);
});

test("eviction by head index resolves every dynamic index as a plain list model does", () => {
  const rand = prng(42);
  const fixer = new HpackAuthorityFixer();
  let model: { size: number; authority: boolean }[] = []; // newest first
  let max = 4096;
  const used = () => model.reduce((s, e) => s + e.size, 0);
  for (let round = 0; round < 3000; round++) {
    const parts: Buffer[] = [];
    if (rand(20) === 0) {
      max = rand(4097);
      parts.push(sizeUpdate(max));
      while (used() > max) model.pop();
    }
    // One new entry: an authority (name index 1) or another name, with a value of random length.
    const authority = rand(3) === 0;
    const value = "v".repeat(rand(300));
    parts.push(literal(authority ? 1 : "x-name", value, false));
    const size = (authority ? 10 : 6) + value.length + 32;
    if (size > max) model = [];
    else {
      model.unshift({ size, authority });
      while (used() > max) model.pop();
    }
    // Refer to a random live entry by index, with an invalid value: fixed only if it is an authority.
    if (model.length > 0) {
      const k = rand(model.length);
      parts.push(literal(62 + k, SOCK, false, "without"));
      assert.equal(fixer.fix(Buffer.concat(parts)), model[k]?.authority, `round ${round}, index ${62 + k}`);
    } else {
      assert.equal(fixer.fix(Buffer.concat(parts)), false);
    }
    assert.equal(fixer.tableEntries, model.length, `round ${round}`);
  }
  assert.ok(fixer.tracking);
});

test("empty CONTINUATIONs count against the block: the 9th is passed on, nothing is held", () => {
  const r = new H2AuthorityRewriter();
  const head = Buffer.concat([PREFACE, frame(HEADERS, 0, 1, request(SOCK))]);
  const empty = frame(CONTINUATION, 0, 1, Buffer.alloc(0));
  feed(r, head, () => 1000);
  for (let i = 0; i < SERVER_LIMITS.maxContinuations; i++) r.push(Buffer.from(empty));
  // Held: the HEADERS payload (its frame head went out at once) and 8 empty CONTINUATIONs.
  assert.equal(r.heldBytes, request(SOCK).length + 9 * SERVER_LIMITS.maxContinuations);
  const out = r.push(Buffer.from(empty));
  assert.equal(Buffer.concat(out).length, request(SOCK).length + 9 * (SERVER_LIMITS.maxContinuations + 1));
  assert.equal(r.heldBytes, 0);
  assert.equal(r.rewriting, false);
  // Two million more go straight through, one chunk at a time, holding nothing.
  const flood = Buffer.alloc(9 * 200_000);
  for (let at = 0; at < flood.length; at += 9) empty.copy(flood, at);
  for (let i = 0; i < 10; i++) {
    assert.equal(Buffer.concat(r.push(flood)).length, flood.length);
    assert.equal(r.heldBytes, 0);
  }
});

test("a HEADERS frame longer than SETTINGS_MAX_FRAME_SIZE is passed on as soon as its head arrives", () => {
  const r = new H2AuthorityRewriter();
  const big = frame(HEADERS, END_HEADERS, 1, Buffer.concat([request(SOCK), Buffer.alloc(SERVER_LIMITS.maxFrameSize, 0x81)]));
  const first = Buffer.concat([PREFACE, big.subarray(0, 20)]);
  assert.deepEqual(Buffer.concat(r.push(Buffer.from(first))), first);
  assert.equal(r.rewriting, false);
  // At the limit it is held and fixed as usual.
  const ok = new H2AuthorityRewriter();
  const block = Buffer.concat([request(SOCK), Buffer.alloc(SERVER_LIMITS.maxFrameSize - request(SOCK).length, 0x81).fill(0xbe, 0, 1)]);
  const atLimit = Buffer.concat([PREFACE, headerFrames(1, block, SERVER_LIMITS.maxFrameSize)]);
  const out = feed(ok, atLimit, () => 4096);
  assert.equal(out.length, atLimit.length);
  assert.ok(out.includes(Buffer.from(FIXED)), "authority fixed at the frame size limit");
});

test("the 600 KB table bomb as reproduced is passed on at once, whole or in 16 KB frames", () => {
  for (const size of [16_384, 1 << 20]) {
    const r = new H2AuthorityRewriter();
    const input = Buffer.concat([PREFACE, headerFrames(1, tableBombBlock(), size)]);
    assert.deepEqual(feed(r, input, () => 65_536), input);
    assert.equal(r.rewriting, false);
  }
});

test("fuzz: hostile streams in any chunking never throw, hold at most one bounded block and keep their length", () => {
  const rand = prng(7);
  for (const a of attacks(0.2)) {
    for (const chunking of [() => 65_536, () => 1 + rand(40), () => 1 + rand(20_000)]) {
      const r = new H2AuthorityRewriter();
      const out = Buffer.concat([feed(r, a.bytes, chunking), ...r.end()]);
      assert.equal(out.length, a.bytes.length, a.name);
      if (a.refused) assert.equal(r.rewriting, false, `${a.name}: passed on for nghttp2 to refuse`);
    }
  }
});

test("fuzz: crictl's recorded connection with random bytes changed never throws and keeps its length", () => {
  const rand = prng(11);
  for (let round = 0; round < 300; round++) {
    const input = Buffer.from(CRICTL_STOPP);
    for (let k = 1 + rand(4); k > 0; k--) input[PREFACE.length + rand(input.length - PREFACE.length)] = rand(256);
    const r = new H2AuthorityRewriter();
    const out = Buffer.concat([feed(r, input, () => 1 + rand(64)), ...r.end()]);
    assert.equal(out.length, input.length, `round ${round}`);
  }
});

test("SERVER_LIMITS are what the daemon's gRPC server advertises and enforces", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-h2l-"));
  // The CRI server exactly as the daemon builds it, fed raw connections as the daemon does.
  const grpc = createCriServer({ runtime: {}, image: {} });
  const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
  const server = net.createServer((sock) => injector.injectConnection(sock));
  const path = join(dir, "s.sock");
  await new Promise<void>((res) => server.listen(path, res));
  t.after(async () => {
    injector.destroy();
    grpc.forceShutdown();
    await new Promise((res) => server.close(res));
    await rm(dir, { recursive: true, force: true });
  });
  const exchange = (bytes: Buffer): Promise<Buffer> =>
    new Promise((res) => {
      const c = net.connect(path);
      let got = Buffer.alloc(0);
      c.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (frameTypes(got).some((ty) => ty === 0x1 || ty === 0x7)) c.destroy(); // answered or refused
      });
      c.on("error", () => {});
      c.on("close", () => res(got));
      c.write(Buffer.concat([PREFACE, frame(0x4, 0, 0, Buffer.alloc(0)), bytes]));
    });
  const answer = (conts: number) => {
    const empties = Array.from({ length: conts }, () => frame(CONTINUATION, 0, 1, Buffer.alloc(0)));
    const block = Buffer.concat([indexed(3), indexed(6), literal(4, "/runtime.v1.RuntimeService/Version", false), literal(1, "localhost", false), literal(31, "application/grpc", false)]);
    return exchange(Buffer.concat([frame(HEADERS, 0x1, 1, block), ...empties, frame(CONTINUATION, END_HEADERS, 1, Buffer.alloc(0))]));
  };
  const within = await answer(SERVER_LIMITS.maxContinuations - 1);
  // The server's own SETTINGS: no header table or frame size other than the defaults.
  const settings = within.subarray(9, 9 + within.readUIntBE(0, 3));
  assert.equal(within[3], 0x4);
  for (let at = 0; at + 6 <= settings.length; at += 6) {
    const id = settings.readUInt16BE(at);
    const value = settings.readUInt32BE(at + 2);
    if (id === 0x1) assert.equal(value, SERVER_LIMITS.headerTableSize);
    if (id === 0x5) assert.equal(value, SERVER_LIMITS.maxFrameSize);
  }
  assert.ok(frameTypes(within).includes(0x1), "HEADERS + 8 CONTINUATIONs answered");
  const over = await answer(SERVER_LIMITS.maxContinuations);
  assert.ok(frameTypes(over).includes(0x7), "HEADERS + 9 CONTINUATIONs refused with GOAWAY");
  assert.ok(!frameTypes(over).includes(0x1));
  const table = await exchange(frame(HEADERS, 0x5, 1, Buffer.concat([sizeUpdate(SERVER_LIMITS.headerTableSize + 1), indexed(3)])));
  assert.ok(frameTypes(table).includes(0x7), "a table size over the limit is refused with GOAWAY");
});

function frameTypes(b: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= b.length; at += 9 + b.readUIntBE(at, 3)) types.push(b[at + 3] ?? -1);
  return types;
}
