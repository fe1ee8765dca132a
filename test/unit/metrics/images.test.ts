// Pull series from the progress feed: bytes count what layer downloads received (not a layer
// already stored, no byte twice across a resume); per-layer gauges live only during a pull.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { ProgressFeed } from "../../../src/images/progress.js";
import { pullMetrics } from "../../../src/metrics/images.js";
import { parseExposition, valueOf } from "../../fixtures/prom-text.js";

const scrape = async (r: Registry) => parseExposition(await r.metrics());

test("a pull's bytes, duration, result and per-layer progress", async () => {
  const r = new Registry();
  const feed = new ProgressFeed();
  const stop = pullMetrics(r, feed);
  const p = feed.start("reg.test/busybox:1");
  p.pull("resolving");
  p.pull("resolved", { layers: [{ digest: "sha256:a", size: 100 }, { digest: "sha256:b", size: 50 }, { digest: "sha256:c", size: 80 }] });
  p.layer(0, "sha256:a", 100, "exists");
  p.layer(1, "sha256:b", 50, "waiting");
  p.layer(2, "sha256:c", 80, "waiting");
  p.layer(1, "sha256:b", 50, "downloading", 10); // bytes that came before the first event count too
  p.layer(2, "sha256:c", 80, "downloading", 0);
  p.layer(2, "sha256:c", 80, "downloading", 30); // (bytes() events are throttled; a phase event always goes out)
  let m = await scrape(r);
  assert.equal(valueOf(m, "berth_image_pulls_in_progress"), 1);
  assert.equal(valueOf(m, "berth_image_pull_layer_downloaded_bytes", { image: "reg.test/busybox:1", layer: "sha256:c" }), 30);
  assert.equal(valueOf(m, "berth_image_pull_layer_size_bytes", { image: "reg.test/busybox:1", layer: "sha256:c" }), 80);
  assert.equal(valueOf(m, "berth_image_pull_layer_downloaded_bytes", { image: "reg.test/busybox:1", layer: "sha256:a" }), 100);
  p.layer(2, "sha256:c", 80, "resuming", 20); // a retry from byte 20: bytes 20-30 arrive twice
  p.layer(2, "sha256:c", 80, "downloaded");
  p.layer(1, "sha256:b", 50, "downloaded");
  p.pull("done", { image: "sha256:cfg" });
  m = await scrape(r);
  assert.equal(valueOf(m, "berth_image_pull_bytes_total"), 30 + 60 + 50, "c: 30, then 60 from the resume at 20; b: all 50; a: none");
  assert.equal(valueOf(m, "berth_image_pulls_in_progress"), 0);
  assert.equal(valueOf(m, "berth_image_pulls_total", { result: "success" }), 1);
  assert.equal(valueOf(m, "berth_image_pulls_total", { result: "failure" }), 0);
  assert.equal(valueOf(m, "berth_image_pull_duration_seconds_count", { result: "success" }), 1);
  assert.equal(m.get("berth_image_pull_layer_downloaded_bytes")!.samples.length, 0, "layer gauges go with the pull");

  const q = feed.start("reg.test/other:1");
  q.pull("resolving");
  q.pull("failed", { error: "nope" });
  stop();
  feed.start("reg.test/after:1").pull("resolving");
  m = await scrape(r);
  assert.equal(valueOf(m, "berth_image_pulls_total", { result: "failure" }), 1);
  assert.equal(valueOf(m, "berth_image_pulls_in_progress"), 0, "unsubscribed: later pulls are not seen");
});
