// Which digested reference ContainerStatus.image_ref shows for a stored image: the asked repository's
// digest first, never an ID unless the image has no name at all.
import assert from "node:assert/strict";
import { test } from "node:test";
import { digestedReference } from "../../../src/images/digested-ref.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const ID = `sha256:${"a".repeat(64)}`;

test("the repository the user asked for wins; then the first repo digest", () => {
  const rec = { id: ID, repoTags: ["docker.io/library/busybox:latest"], repoDigests: [`docker.io/library/busybox@${D1}`, `reg.local/mirror/busybox@${D2}`], manifestDigest: D1 };
  assert.equal(digestedReference(rec, "reg.local/mirror/busybox:1"), `reg.local/mirror/busybox@${D2}`);
  assert.equal(digestedReference(rec, "busybox"), `docker.io/library/busybox@${D1}`);
  assert.equal(digestedReference(rec, ID), `docker.io/library/busybox@${D1}`, "asked by ID: the first repo digest");
  assert.equal(digestedReference(rec, `reg.local/mirror/busybox@${D2}`), `reg.local/mirror/busybox@${D2}`);
  assert.equal(digestedReference(rec, "other/app:1"), `docker.io/library/busybox@${D1}`);
});

test("no repo digest (an imported image): its tag's repository with the manifest digest; nameless: the ID", () => {
  assert.equal(digestedReference({ id: ID, repoTags: ["reg.local/app:v1"], repoDigests: [], manifestDigest: D2 }, ID), `reg.local/app@${D2}`);
  assert.equal(digestedReference({ id: ID, repoTags: [], repoDigests: [], manifestDigest: D2 }, ID), ID);
});
