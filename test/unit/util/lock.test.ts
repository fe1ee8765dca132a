// The per-key mutex: one key's operations run one at a time in call order, other keys in
// parallel, and a failure does not block the next caller.
import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyedMutex } from "../../../src/util/lock.js";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("serialises per key, in order, and keeps going after a failure", async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const job = (key: string, name: string, ms: number, fail = false) =>
    m.run(key, async () => {
      log.push(`${name}+`);
      await tick(ms);
      log.push(`${name}-`);
      if (fail) throw new Error(name);
      return name;
    });
  const results = await Promise.allSettled([job("a", "a1", 20, true), job("a", "a2", 1), job("b", "b1", 5)]);
  assert.equal(results[0]!.status, "rejected");
  assert.deepEqual(results.slice(1).map((r) => (r.status === "fulfilled" ? r.value : "")), ["a2", "b1"]);
  assert.ok(log.indexOf("a1-") < log.indexOf("a2+"), "a2 waits for a1");
  assert.ok(log.indexOf("b1+") < log.indexOf("a1-"), "b runs beside a");
});
