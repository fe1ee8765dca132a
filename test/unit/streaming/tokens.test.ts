// Single-use streaming tokens: taken once, expire after the TTL, capped in flight, URL-safe.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TokenCache } from "../../../src/streaming/tokens.js";

test("a token gives its value once; unknown tokens give nothing", () => {
  const c = new TokenCache<string>({ ttlMs: 60_000, maxInFlight: 10 });
  const t = c.put("req");
  assert.match(t, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(c.take("nope"), undefined);
  assert.equal(c.take(t), "req");
  assert.equal(c.take(t), undefined);
});

test("an expired token gives nothing and expired entries free their place", () => {
  let now = 1000;
  const c = new TokenCache<number>({ ttlMs: 100, maxInFlight: 2, now: () => now });
  const a = c.put(1);
  c.put(2);
  assert.throws(() => c.put(3), /2 streaming requests are already waiting/);
  now += 100;
  assert.equal(c.take(a), undefined);
  assert.equal(c.size, 0);
  c.put(4);
});
