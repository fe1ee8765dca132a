// The image store's lookups and tag moves, on a real SQLite file: IDs, unique prefixes,
// ambiguous prefixes, tags and digests with short-name normalisation, and ChainIDs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../../../src/store/db.js";
import { ImageStore, type ImageRecord } from "../../../src/images/store.js";
import { chainIds } from "../../../src/images/layers/chain.js";
import { viewOf } from "../../../src/images/view.js";

async function open(t: { after: (fn: () => Promise<void> | void) => void }): Promise<{ db: Store; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), "berth-imgstore-"));
  const path = join(dir, "berth.db");
  const db = Store.open(path);
  t.after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { db, path };
}

function rec(id: string, tags: string[], digests: string[], user = ""): ImageRecord {
  return {
    id, repoTags: tags, repoDigests: digests, size: 1, manifestDigest: `sha256:${"e".repeat(64)}`, manifestMediaType: "m",
    manifestSize: 1, configMediaType: "c", configSize: 1, indexDigests: [], layers: [], user, created: 0,
  };
}

const A = `sha256:aaaa1${"0".repeat(59)}`;
const B = `sha256:aaaa2${"0".repeat(59)}`;
const D = `sha256:${"d".repeat(64)}`;

test("find: ID with or without sha256:, unique prefix, ambiguous prefix, tag, digest, short names", async (t) => {
  const { db } = await open(t);
  const s = new ImageStore(db);
  s.commit(rec(A, ["docker.io/library/busybox:latest"], [`docker.io/library/busybox@${D}`]));
  s.commit(rec(B, ["registry.local:5000/app:v1"], []));
  assert.equal(s.find(A)?.by, "id");
  assert.equal(s.find(A.slice(7))?.image.id, A);
  assert.equal(s.find("aaaa1")?.image.id, A);
  assert.equal(s.find("sha256:aaaa2")?.image.id, B);
  assert.throws(() => s.find("aaaa"), /image ID prefix "aaaa" is ambiguous: it matches aaaa10000000, aaaa20000000/);
  for (const q of ["busybox", "busybox:latest", "library/busybox", "docker.io/library/busybox:latest"]) {
    const m = s.find(q);
    assert.equal(m?.image.id, A, q);
    assert.equal(m?.by, "tag");
    assert.equal(m?.ref, "docker.io/library/busybox:latest");
  }
  assert.equal(s.find(`busybox@${D}`)?.by, "digest");
  assert.equal(s.find(D)?.image.id, A, "a bare manifest digest finds the image");
  assert.equal(s.find("registry.local:5000/app:v1")?.image.id, B);
  assert.equal(s.find("registry.local:5000/app:v2"), undefined);
  assert.equal(s.find("bbbb"), undefined);
  assert.throws(() => s.find(""), /image is empty/);
  assert.throws(() => s.find("sha256:xyz"), /must be followed by hex/);
});

test("commit moves tags and digests; an image left without references is dropped; records persist", async (t) => {
  const { db, path } = await open(t);
  const s = new ImageStore(db);
  s.commit(rec(A, ["r/x:v1", "r/x:v2"], []));
  let orphans = s.commit(rec(B, ["r/x:v1"], []));
  assert.deepEqual(orphans, []);
  assert.deepEqual(s.get(A)?.repoTags, ["r/x:v2"]);
  orphans = s.commit(rec(B, ["r/x:v1", "r/x:v2"], []));
  assert.deepEqual(orphans.map((o) => o.id), [A]);
  assert.equal(s.get(A), undefined);
  db.close();
  const db2 = Store.open(path);
  try {
    assert.deepEqual(new ImageStore(db2).list().map((r) => [r.id, r.repoTags]), [[B, ["r/x:v1", "r/x:v2"]]]);
  } finally {
    db2.close();
  }
});

test("ChainIDs follow the image spec; views derive uid, username and pinned", () => {
  const d1 = `sha256:${"1".repeat(64)}`;
  const d2 = `sha256:${"2".repeat(64)}`;
  const c2 = `sha256:${createHash("sha256").update(`${d1} ${d2}`).digest("hex")}`;
  assert.deepEqual(chainIds([d1, d2]), [d1, c2]);
  assert.deepEqual(chainIds([]), []);
  assert.equal(viewOf(rec(A, [], [], "1000:1000"), "").uid, 1000);
  assert.equal(viewOf(rec(A, [], [], "app:grp"), "").username, "app");
  assert.equal(viewOf(rec(A, [], [], ""), "").uid, undefined);
  assert.equal(viewOf(rec(A, ["k8s/pause:3.10"], [], ""), "k8s/pause:3.10").pinned, true);
  assert.equal(viewOf(rec(A, [], ["k8s/pause@" + D], ""), "k8s/pause@" + D).pinned, true);
  assert.equal(viewOf(rec(A, ["k8s/pause:3.9"], [], ""), "k8s/pause:3.10").pinned, false);
});
