// The layer store shares one apply per ChainID between concurrent pulls; a pull whose own blob is
// good must not inherit the failure of another pull's bad blob for the same ChainID.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BerthError, Code } from "../../../../src/errors.js";
import { LayerStore } from "../../../../src/images/layers/store.js";
import { Store } from "../../../../src/store/db.js";
import { setLogLevel } from "../../../../src/util/log.js";
import { buildTar } from "../../../fixtures/layer-kit.js";

setLogLevel("silent");

test("a concurrent apply of the same ChainID that fails (bad blob) does not fail a pull with a good blob", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-layers-"));
  const db = Store.open(join(dir, "berth.db"));
  t.after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const layers = new LayerStore(join(dir, "layers"), db);
  await layers.init();
  const good = await buildTar([{ name: "etc/good", data: "good" }]);
  const bad = await buildTar([{ name: "etc/evil", data: "evil" }]);
  const diffId = `sha256:${createHash("sha256").update(good).digest("hex")}`;
  const req = (bytes: Buffer, what: string) => ({ chainId: diffId, parent: undefined, diffId, lowers: [], tar: () => Readable.from([bytes]), what });
  const hostile = layers.create(req(bad, "layer 1 of hostile"));
  const victim = layers.create(req(good, "layer 1 of victim"));
  await assert.rejects(hostile, (err: unknown) => err instanceof BerthError && err.code === Code.DATA_LOSS);
  const rec = await victim;
  assert.equal(rec.diffId, diffId);
  assert.equal(await readFile(join(layers.diffDir(diffId), "etc/good"), "utf8"), "good");
});
