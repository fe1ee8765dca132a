// The step timer behind the per-step trace lines: durations, start/end offsets from the timer's
// start (overlapping steps overlap), synchronous steps, and nothing recorded for a failed step.
import assert from "node:assert/strict";
import { test } from "node:test";
import { stepTimer } from "../../../src/util/step-timer.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("steps record their duration and [start, end] offsets; a failed step records nothing", async () => {
  const t = stepTimer();
  await Promise.all([t.step("a", () => sleep(20)), t.step("b", () => sleep(5))]);
  assert.equal(t.stepSync("sync", () => 42), 42);
  await assert.rejects(t.step("bad", () => Promise.reject(new Error("no"))));
  const spans = t.spans();
  const ms = t.done();
  assert.deepEqual(Object.keys(spans).sort(), ["a", "b", "sync"]);
  for (const [name, [s, e]] of Object.entries(spans)) {
    assert.ok(s >= 0 && e >= s, `${name}: ${s} -> ${e}`);
    assert.ok(Math.abs(e - s - ms[name]!) <= 0.11, `${name}: the span's length is its duration`);
  }
  assert.ok(spans["b"]![0] <= spans["a"]![1], "b started while a ran");
  assert.ok(spans["sync"]![0] >= spans["a"]![1], "the sync step came after both");
  assert.ok(ms["total"]! >= ms["a"]!);
});
