// registerMetrics: series registered before metrics start are installed when they start, and
// ones registered after are installed at once, into the one registry that is scraped.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as prom from "prom-client";
import { installRegisteredMetrics, registerMetrics } from "../../../src/metrics/hooks.js";
import { parseExposition, valueOf } from "../../fixtures/prom-text.js";

test("installers run once metrics start, early or late", async () => {
  let early = 0;
  registerMetrics((p, registry) => {
    early++;
    new p.Gauge({ name: "t_early", help: "early", registers: [registry], collect() { this.set(41); } });
  });
  assert.equal(early, 0, "nothing runs while metrics are off");
  const registry = new prom.Registry();
  installRegisteredMetrics(prom, registry);
  registerMetrics((p, r) => void new p.Counter({ name: "t_late_total", help: "late", registers: [r] }).inc(2));
  const m = parseExposition(await registry.metrics());
  assert.equal(early, 1);
  assert.equal(valueOf(m, "t_early"), 41);
  assert.equal(valueOf(m, "t_late_total"), 2);
});
