// Unit tests for the event fan-out: order per subscriber, a full queue cuts only its own
// subscriber off (counted), recovery events replayed to early subscribers only, clean close.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Fanout, type Subscription } from "../../../src/util/fanout.js";
import { setLogLevel } from "../../../src/util/log.js";

// Overflow warnings are expected here; keep the test output clean.
setLogLevel("silent");

const bus = (capacity = 4, replayWindowMs = 1000) =>
  new Fanout<number>({ name: "t", capacity, replayWindowMs, overflowError: (lost) => new Error(`overflow ${lost}`) });

async function take(s: Subscription<number>, n: number): Promise<number[]> {
  const out: number[] = [];
  if (n === 0) return out;
  for await (const x of s) {
    out.push(x);
    if (out.length === n) break;
  }
  return out;
}

async function drain(s: Subscription<number>): Promise<{ items: number[]; error?: string }> {
  const items: number[] = [];
  try {
    for await (const x of s) items.push(x);
    return { items };
  } catch (err) {
    return { items, error: (err as Error).message };
  }
}

test("every subscriber gets every item in order", async () => {
  const b = bus();
  b.endRecovery();
  const [s1, s2] = [b.subscribe(), b.subscribe()];
  for (const i of [1, 2, 3]) b.publish(i);
  assert.deepEqual(await take(s1, 3), [1, 2, 3]);
  assert.deepEqual(await take(s2, 3), [1, 2, 3]);
  assert.equal(b.subscribers, 2);
});

test("a subscriber that falls a whole queue behind is cut off; the others are not held back", async () => {
  const b = bus(4);
  b.endRecovery();
  const slow = b.subscribe();
  const fast = b.subscribe();
  const got: number[] = [];
  const reading = (async () => {
    for await (const x of fast) {
      got.push(x);
      if (got.length === 10) return;
    }
  })();
  for (let i = 0; i < 10; i++) {
    b.publish(i);
    await new Promise((r) => setImmediate(r));
  }
  await reading;
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // slow had 4 queued when the 5th came: all 5 lost, then cut off (later items are not counted for it).
  assert.deepEqual(await drain(slow), { items: [], error: "overflow 5" });
  assert.equal(b.dropped, 5);
  assert.equal(b.cutOff, 1);
  assert.equal(b.subscribers, 1);
});

test("what recovery published is replayed to subscribers within the window, then forgotten", async () => {
  const b = bus(4, 1000);
  b.publish(7);
  b.publish(8);
  assert.equal(b.wanted(), true, "recovery events are wanted with no subscriber yet");
  b.endRecovery(10_000);
  b.publish(9); // after recovery: live subscribers only (none now)
  assert.deepEqual(await take(b.subscribe(10_500), 2), [7, 8]);
  const late = b.subscribe(11_001);
  b.publish(10);
  assert.deepEqual(await take(late, 1), [10]);
});

test("no subscriber after recovery: nothing is wanted (producers skip building events)", () => {
  const b = bus();
  b.endRecovery();
  assert.equal(b.wanted(), false);
  const s = b.subscribe();
  assert.equal(b.wanted(), true);
  s.close();
  assert.equal(b.wanted(), false);
});

test("close ends every subscription cleanly after its queue is read", async () => {
  const b = bus();
  b.endRecovery();
  const s = b.subscribe();
  b.publish(1);
  b.close();
  assert.deepEqual(await drain(s), { items: [1] });
  assert.deepEqual(await drain(b.subscribe()), { items: [] });
});
