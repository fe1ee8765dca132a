// An image commit whose transaction fails (SQLITE_FULL on a full disk) changes nothing: the
// database rolls back and so does the in-memory index ListImages and GC read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../../../src/store/db.js";
import { ImageStore, type ImageRecord } from "../../../src/images/store.js";

function rec(id: string, tags: string[]): ImageRecord {
  return {
    id, repoTags: tags, repoDigests: [], size: 1, manifestDigest: `sha256:${"e".repeat(64)}`, manifestMediaType: "m",
    manifestSize: 1, configMediaType: "c", configSize: 1, indexDigests: [], layers: [], user: "", created: 0,
  };
}

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

test("a failed commit (tag move included) leaves the index as the database: unchanged", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-imgstore-full-"));
  const db = Store.open(join(dir, "berth.db"));
  t.after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const s = new ImageStore(db);
  s.commit(rec(A, ["docker.io/library/app:v1"]));
  const tx = db.tx.bind(db);
  // The writes run, then COMMIT fails as it does when the disk is full.
  db.tx = <T>(fn: () => T): T => tx(() => {
    fn();
    throw Object.assign(new Error("database or disk is full"), { code: "ERR_SQLITE_ERROR", errcode: 13 });
  });
  assert.throws(() => s.commit(rec(B, ["docker.io/library/app:v1"])), /disk is full/);
  db.tx = tx;
  assert.deepEqual(s.list().map((r) => [r.id, r.repoTags]), [[A, ["docker.io/library/app:v1"]]]);
  assert.equal(s.find("docker.io/library/app:v1")?.image.id, A);
  assert.deepEqual(new ImageStore(db).list().map((r) => r.id), [A]);
});
