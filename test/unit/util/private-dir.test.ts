// root and state: made 0700, tightened from the 0711 an older Berth used, an admin's own mode
// left alone (Berth's subdirectories keep host users out on their own).
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { makePrivateDir } from "../../../src/util/private-dir.js";

const mode = async (p: string) => (await stat(p)).mode & 0o7777;

test("makePrivateDir: new dirs 0700, an older Berth's 0711 tightened, another mode left as the admin chose", async (t) => {
  const base = await mkdtemp(join(tmpdir(), "berth-private-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const fresh = join(base, "a", "b");
  assert.equal(makePrivateDir(fresh), 0o700);
  assert.deepEqual([await mode(join(base, "a")), await mode(fresh)], [0o700, 0o700], "missing parents too");

  const old = join(base, "old");
  await mkdir(old);
  await chmod(old, 0o711);
  assert.equal(makePrivateDir(old), 0o700);
  assert.equal(await mode(old), 0o700);

  const shared = join(base, "shared");
  await mkdir(shared);
  await chmod(shared, 0o755);
  assert.equal(makePrivateDir(shared), 0o755);
  assert.equal(await mode(shared), 0o755);
});
