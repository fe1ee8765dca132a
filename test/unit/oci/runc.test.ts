// The runc process wrapper: a runc that exits without reading its stdin (runc update's
// resources JSON) must give its exit code, not an uncaught EPIPE that would end the daemon.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Runc } from "../../../src/oci/runc.js";

test("input runc never reads (it exits first) is an exit code, not an uncaught EPIPE", async () => {
  // `false` ignores its arguments and stdin and exits 1; 4 MiB cannot fit the pipe buffer.
  const runc = new Runc("/bin/false", "/nonexistent-root");
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on("uncaughtException", onUncaught);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await runc.run(["update", "--resources", "-", "x"], { input: "x".repeat(4 << 20) });
      assert.equal(r.code, 1);
    }
    await new Promise((res) => setTimeout(res, 50));
  } finally {
    process.off("uncaughtException", onUncaught);
  }
  assert.deepEqual(uncaught, []);
});
