// The real daemon under hostile HTTP/2 bytes: table bombs, CONTINUATION floods, bad framing and
// random bytes on several connections must not stop it answering Version on another connection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDaemon } from "../fixtures/daemon.js";
import { attacks } from "../fixtures/h2-attacks.js";
import { siege } from "../fixtures/h2-siege.js";
import { call } from "../../src/cli/client.js";

// The issue asks for answers "within 100 ms"; that figure is measured in bench/ (h2_attack_*).
// Here the bound only separates "kept answering" from "froze" (the 600 KB table bomb froze the
// daemon for 40 s), with room for a loaded 2-core machine.
const FROZEN_MS = 1000;

test("hostile HTTP/2 streams on other connections leave Version answering, and refused ones are closed", async (t) => {
  const d = await startDaemon();
  t.after(() => d.stop());
  const list = attacks();
  const copies = 2;
  const r = await siege(d, list, copies);
  assert.deepEqual(r.failures, [], "every Version call during the siege succeeded");
  assert.ok(r.latencies.length > 5, `${r.latencies.length} Version calls during the siege`);
  const worst = Math.max(...r.latencies);
  assert.ok(worst < FROZEN_MS, `slowest Version during the siege: ${worst.toFixed(0)} ms`);
  // What nghttp2 refuses reaches it at once and the daemon closes the connection itself.
  for (const a of list.filter((x) => x.refused)) assert.equal(r.closedByServer.get(a.name), copies, `${a.name}: closed by the daemon`);
  // And afterwards it still serves, with nothing left behind from the sieges.
  assert.equal((await call(d.client, d.client.runtime, d.client.runtime.version, { version: "" })).runtimeName, "berth");
});
