// The strict exposition parser the metrics tests rely on: it must accept what Prometheus accepts
// and refuse what Prometheus refuses, or the /metrics tests prove nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter, Histogram, Registry } from "prom-client";
import { parseExposition, valueOf } from "../../fixtures/prom-text.js";

test("a prom-client exposition with escapes and a histogram parses to its values", async () => {
  const r = new Registry();
  const c = new Counter({ name: "t_errors_total", help: 'line\\one\nline "two"', labelNames: ["code"], registers: [r] });
  c.inc({ code: 'a"b\\c\nd' }, 3);
  const h = new Histogram({ name: "t_seconds", help: "h", labelNames: ["rpc"], buckets: [0.1, 1], registers: [r] });
  h.observe({ rpc: "X" }, 0.5);
  h.observe({ rpc: "X" }, 5);
  const fams = parseExposition(await r.metrics());
  assert.equal(fams.get("t_errors_total")!.type, "counter");
  assert.equal(fams.get("t_errors_total")!.help, 'line\\one\nline "two"');
  assert.equal(valueOf(fams, "t_errors_total", { code: 'a"b\\c\nd' }), 3);
  assert.equal(fams.get("t_seconds")!.type, "histogram");
  assert.equal(valueOf(fams, "t_seconds_bucket", { rpc: "X", le: "1" }), 1);
  assert.equal(valueOf(fams, "t_seconds_bucket", { rpc: "X", le: "+Inf" }), 2);
  assert.equal(valueOf(fams, "t_seconds_count", { rpc: "X" }), 2);
  assert.equal(valueOf(fams, "t_seconds_sum", { rpc: "X" }), 5.5);
});

test("off-format expositions are refused with the line", () => {
  const bad: [string, RegExp][] = [
    ["1bad 1\n", /bad metric name/],
    ['m{l="x} 1\n', /bad label/],
    ['m{l="x",l="y"} 1\n', /repeated/],
    ["m one\n", /bad value/],
    ['m{l="\\q"} 1\n', /bad escape/],
    ["m 1\nm 2\n", /duplicate sample/],
    ["# TYPE m gauge\nm 1\n# TYPE m gauge\n", /TYPE of m after its samples|not contiguous/],
    ["# TYPE m gauge\nm 1\nn 1\nm{a=\"1\"} 2\n", /not contiguous/],
    ["# TYPE m wobble\n", /bad type/],
    ["m 1", /end with a newline/],
    ['# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', /not cumulative/],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /\+Inf/],
    ['# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n', /!= _count/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseExposition(text), re, JSON.stringify(text));
});
