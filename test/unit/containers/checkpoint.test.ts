// CheckpointContainer's request checks that need no container: the archive location and the timeout.
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkLocation, timeoutMs } from "../../../src/containers/checkpoint.js";
import { Code } from "../../../src/errors.js";

test("checkLocation: absolute .tar path in an existing directory; each failure InvalidArgument saying what", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-ckloc-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await checkLocation(join(dir, "ok.tar"));
  await mkdir(join(dir, "d.tar"));
  const bad: Array<[string, RegExp]> = [
    ["", /location is empty/],
    ["rel/ckpt.tar", /is not an absolute path/],
    [join(dir, "ckpt.tgz"), /must name a \.tar archive/],
    [join(dir, "nope", "ckpt.tar"), /does not exist; create it first/],
    [join(dir, "d.tar"), /is a directory/],
  ];
  for (const [loc, re] of bad) await assert.rejects(checkLocation(loc), (e: { code: string; message: string }) => e.code === Code.INVALID_ARGUMENT && re.test(e.message), loc);
});

test("timeoutMs: 0 is the default (300 s), seconds otherwise; negative or over a day refused", () => {
  assert.equal(timeoutMs(0n), 300_000);
  assert.equal(timeoutMs(12n), 12_000);
  assert.throws(() => timeoutMs(-1n), /negative/);
  assert.throws(() => timeoutMs(86_401n), /over a day/);
});
