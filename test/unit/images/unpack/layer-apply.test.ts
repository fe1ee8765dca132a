// A refused tar entry fails the layer with its own InvalidArgument, however the tar arrives in
// chunks: its unread data stream must not kill the unpack worker. Regression for a tar fuzz finding.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { BerthError, Code } from "../../../../src/errors.js";
import { applyLayer } from "../../../../src/images/unpack/apply.js";
import { buildTar, streamOf, tempDir, type E } from "../../../fixtures/layer-kit.js";

const cases: [string, E[], RegExp][] = [
  ["a name escaping the root", [{ name: "../x", data: "x".repeat(2000) }, { name: "y", data: "y" }], /layer entry "\.\.\/x": path escapes the layer root/],
  ["AUFS whiteout metadata", [{ name: "a/.wh..wh.aufs", data: "x".repeat(2000) }], /whiteout metadata "\.wh\.\.wh\.aufs" \(AUFS\) is not supported/],
];

for (const [what, entries, message] of cases) {
  test(`${what}, its data spread over small chunks, is InvalidArgument (the worker lives)`, async (t) => {
    const tar = await buildTar(entries);
    for (const chunk of [50, 512, 64 * 1024]) {
      const root = path.join(await tempDir(t), "l");
      await assert.rejects(applyLayer(streamOf(tar, chunk), { root, lowers: [] }), (err: unknown) => {
        assert.ok(err instanceof BerthError, `chunks of ${chunk}: ${String(err)}`);
        assert.equal(err.code, Code.INVALID_ARGUMENT, `chunks of ${chunk}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
    }
  });
}
