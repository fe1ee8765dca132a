// The read-only overlay of an image volume: lowerdirs only (no upper, "ro"), relative to the layer
// store, padded to the two lowers overlay needs without an upper, refused when over the page limit.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readOnlyOverlayOptions } from "../../../../src/containers/rootfs/image-mount.js";

test("the read-only overlay: lowerdirs only, relative to the layer store, two at least", () => {
  const fillers = ["/iv/.filler/0", "/iv/.filler/1"];
  assert.equal(readOnlyOverlayOptions({ layersDir: "/layers", lowers: ["/layers/b/diff", "/layers/a/diff"], fillers, target: "/iv/x" }), "ro,lowerdir=b/diff:a/diff");
  assert.equal(readOnlyOverlayOptions({ layersDir: "/layers", lowers: ["/layers/a/diff"], fillers, target: "/iv/x" }), "ro,lowerdir=a/diff:/iv/.filler/0");
  assert.equal(readOnlyOverlayOptions({ layersDir: "/layers", lowers: [], fillers, target: "/iv/x" }), "ro,lowerdir=/iv/.filler/0:/iv/.filler/1");
  assert.doesNotMatch(readOnlyOverlayOptions({ layersDir: "/layers", lowers: ["/layers/a/diff", "/layers/b/diff"], fillers, target: "/t" }), /upperdir|workdir/);
  const many = Array.from({ length: 400 }, (_, i) => `/layers/${String(i).padStart(12, "0")}/diff`);
  assert.throws(() => readOnlyOverlayOptions({ layersDir: "/layers", lowers: many, fillers, target: "/t" }), /400 layers/);
});
