// Detach-key parsing (docker's syntax) and the stdin filter: a full sequence detaches, a
// partial one is held and then sent as typed, across chunk boundaries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DetachFilter, parseDetachKeys } from "../../../../src/cli/stream/detach-keys.js";

test("parses ctrl- keys and single characters", () => {
  assert.deepEqual(parseDetachKeys("ctrl-p,ctrl-q"), Buffer.from([0x10, 0x11]));
  assert.deepEqual(parseDetachKeys("ctrl-@,ctrl-[,ctrl-_"), Buffer.from([0x00, 0x1b, 0x1f]));
  assert.deepEqual(parseDetachKeys("a,ctrl-a"), Buffer.from([0x61, 0x01]));
  assert.deepEqual(parseDetachKeys(""), Buffer.alloc(0));
  assert.throws(() => parseDetachKeys("ctrl-1"), /ctrl- takes a-z/);
  assert.throws(() => parseDetachKeys("ab"), /expected one character or ctrl-<c>/);
});

test("the full sequence detaches; what came before it is forwarded", () => {
  const f = new DetachFilter(parseDetachKeys("ctrl-p,ctrl-q"));
  assert.deepEqual(f.push(Buffer.from("ls\x10\x11rest")), { forward: Buffer.from("ls"), detach: true });
});

test("a partial sequence is held across chunks, then sent as typed", () => {
  const f = new DetachFilter(parseDetachKeys("ctrl-p,ctrl-q"));
  assert.deepEqual(f.push(Buffer.from("a\x10")), { forward: Buffer.from("a"), detach: false });
  assert.deepEqual(f.push(Buffer.from("x")), { forward: Buffer.from("\x10x"), detach: false });
  assert.deepEqual(f.push(Buffer.from("\x10")), { forward: Buffer.alloc(0), detach: false });
  assert.deepEqual(f.push(Buffer.from("\x10\x11")), { forward: Buffer.from("\x10"), detach: true });
});

test("no keys: everything passes", () => {
  const f = new DetachFilter(parseDetachKeys(""));
  assert.deepEqual(f.push(Buffer.from("\x10\x11")), { forward: Buffer.from("\x10\x11"), detach: false });
});
