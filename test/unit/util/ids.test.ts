// Pod IDs: 64 hex characters, resolved by full ID or unique prefix; an ambiguous prefix is an
// InvalidArgument naming the candidates.
import assert from "node:assert/strict";
import { test } from "node:test";
import { newId, resolveId } from "../../../src/util/ids.js";
import { type BerthError, Code } from "../../../src/errors.js";

test("new IDs are 64 lowercase hex characters and avoid taken ones", () => {
  const id = newId();
  assert.match(id, /^[0-9a-f]{64}$/);
  let calls = 0;
  const other = newId(() => ++calls === 1);
  assert.equal(calls, 2);
  assert.match(other, /^[0-9a-f]{64}$/);
});

test("resolves exact IDs and unique prefixes, case-insensitively; unknown gives undefined", () => {
  const ids = ["abc" + "0".repeat(61), "abd" + "0".repeat(61), "f".repeat(64)];
  assert.equal(resolveId(ids, ids[0]!, "pod sandbox"), ids[0]);
  assert.equal(resolveId(ids, "abc", "pod sandbox"), ids[0]);
  assert.equal(resolveId(ids, "ABD", "pod sandbox"), ids[1]);
  assert.equal(resolveId(ids, "f", "pod sandbox"), ids[2]);
  assert.equal(resolveId(ids, "0", "pod sandbox"), undefined);
  assert.equal(resolveId(ids, "not-hex", "pod sandbox"), undefined);
});

test("an ambiguous prefix or an empty ID is InvalidArgument", () => {
  const ids = ["abc" + "0".repeat(61), "abd" + "0".repeat(61)];
  assert.throws(
    () => resolveId(ids, "ab", "pod sandbox"),
    (e: BerthError) => e.code === Code.INVALID_ARGUMENT && /"ab" is ambiguous: it matches 2 IDs \(abc0000000000, abd0000000000\)/.test(e.message),
  );
  assert.throws(() => resolveId(ids, "", "pod sandbox"), (e: BerthError) => e.code === Code.INVALID_ARGUMENT);
});
