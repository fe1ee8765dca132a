// The span facade: a pass-through when tracing is off, and with a backend each span is started,
// made the parent of what runs inside it, and ended once, failed when its function rejects.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTraceBackend, startSpan, tracing, withSpan, type SpanHandle } from "../../../src/trace/span.js";

test("off: withSpan runs the function and passes its result and error through", async () => {
  setTraceBackend(undefined);
  assert.equal(tracing(), false);
  assert.equal(await withSpan("x", {}, async () => 7), 7);
  await assert.rejects(withSpan("x", {}, async () => { throw new Error("boom"); }), /boom/);
  const s = startSpan("y");
  assert.equal(s.run(() => 3), 3);
  s.end();
});

test("on: spans end once, with the error of a rejected function", async () => {
  const log: string[] = [];
  setTraceBackend({
    start(name, attrs): SpanHandle {
      log.push(`start ${name} ${JSON.stringify(attrs)}`);
      return {
        setAttribute: (k, v) => log.push(`attr ${name} ${k}=${v}`),
        run: (fn) => {
          log.push(`run ${name}`);
          return fn();
        },
        end: (e) => log.push(`end ${name}${e ? ` ${(e as Error).message}` : ""}`),
      };
    },
    shutdown: async () => undefined,
  });
  try {
    assert.equal(await withSpan("ok", { a: 1 }, async () => "v"), "v");
    await assert.rejects(withSpan("bad", {}, async () => { throw new Error("boom"); }), /boom/);
    assert.deepEqual(log, ['start ok {"a":1}', "run ok", "end ok", "start bad {}", "run bad", "end bad boom"]);
  } finally {
    setTraceBackend(undefined);
  }
});
