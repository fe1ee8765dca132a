// Entry-name cleaning and whiteout recognition, the lexical half of "nothing leaves the root".
import assert from "node:assert/strict";
import { test } from "node:test";
import { cleanName, whiteoutOf } from "../../../../src/images/unpack/names.js";

test("cleanName cleans, roots absolute names, refuses climbing out", () => {
  assert.equal(cleanName("./a//b/./c/", 4096), "a/b/c");
  assert.equal(cleanName("/etc/passwd", 4096), "etc/passwd");
  assert.equal(cleanName("a/b/../c", 4096), "a/c");
  assert.equal(cleanName("./", 4096), "");
  assert.equal(cleanName("a/..", 4096), "");
  assert.throws(() => cleanName("..", 4096), /layer entry "\.\.": path escapes the layer root/);
  assert.throws(() => cleanName("a/../../b", 4096), /escapes the layer root/);
  assert.throws(() => cleanName("/../b", 4096), /escapes the layer root/);
  assert.throws(() => cleanName("a\0b", 4096), /NUL byte/);
  assert.throws(() => cleanName("x".repeat(11), 10), /longer than 10 bytes/);
  assert.throws(() => cleanName("é".repeat(6), 10), /longer than 10 bytes/, "the limit counts bytes");
});

test("whiteoutOf recognises file and opaque whiteouts and refuses the malformed ones", () => {
  assert.deepEqual(whiteoutOf("a/b", "b"), { kind: "none" });
  assert.deepEqual(whiteoutOf("a/.wh.b", ".wh.b"), { kind: "file", name: "b" });
  assert.deepEqual(whiteoutOf("a/.wh..b", ".wh..b"), { kind: "file", name: ".b" });
  assert.deepEqual(whiteoutOf("a/.wh..wh..opq", ".wh..wh..opq"), { kind: "opaque" });
  for (const bad of [".wh.", ".wh..", ".wh..."]) assert.throws(() => whiteoutOf(bad, bad), /invalid whiteout/);
  assert.throws(() => whiteoutOf(".wh..wh.plnk", ".wh..wh.plnk"), /AUFS/);
});
