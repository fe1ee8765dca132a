// The overlay rootfs options: lowerdirs under the layer store are passed relative (short options)
// and the option string is checked against the kernel's page limit.
import assert from "node:assert/strict";
import { test } from "node:test";
import { overlayOptions } from "../../../../src/containers/rootfs/overlay.js";

test("lowerdirs inside the layer store are relative; others stay absolute", () => {
  const o = overlayOptions({ layersDir: "/var/lib/berth/layers", lowers: ["/var/lib/berth/layers/aaaaaaaaaaaa/diff", "/elsewhere/x"], upper: "/c/u", work: "/c/w", target: "/t" });
  assert.equal(o, "lowerdir=aaaaaaaaaaaa/diff:/elsewhere/x,upperdir=/c/u,workdir=/c/w");
});

test("128 short layer ids fit the one-page limit; 300 do not, with a clear error", () => {
  const lowers = (n: number) => Array.from({ length: n }, (_, i) => `/var/lib/berth/layers/${i.toString(16).padStart(12, "0")}/diff`);
  const ok = overlayOptions({ layersDir: "/var/lib/berth/layers", lowers: lowers(128), upper: "/var/lib/berth/containers/x/upper", work: "/var/lib/berth/containers/x/work", target: "/t" });
  assert.ok(ok.length < 4096);
  assert.throws(() => overlayOptions({ layersDir: "/var/lib/berth/layers", lowers: lowers(300), upper: "/u", work: "/w", target: "/t" }), /300 layers/);
  assert.throws(() => overlayOptions({ layersDir: "/l", lowers: ["/l/a:b"], upper: "/u", work: "/w", target: "/t" }), /':'/);
  assert.throws(() => overlayOptions({ layersDir: "/l", lowers: [], upper: "/u", work: "/w", target: "/t" }), /at least one/);
});
